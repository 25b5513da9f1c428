// Public entry of the REST service, for the CLI's `serve`.
export { startService, type ServiceOptions, type RunningService } from './service.js';
export { parseListenAddress, defaultSocketPath, formatListenAddress, type ListenAddress } from './listen-address.js';
