// Public entry of the application layer: what the front ends (cli/, api/) use.
export { SyscontainerError, isSyscontainerError, type ErrorCode } from '../common/errors.js';
export { TokenStore, parseDuration, type TokenRecord, type TokenGrant } from './api-tokens.js';
export { QuotaStore, type ProjectQuota } from './quotas.js';
export { validateProjectName, isValidProjectName } from './project-name.js';
export { serviceFiles, type ServiceFiles } from './service-files.js';
