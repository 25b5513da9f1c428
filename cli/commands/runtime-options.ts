// Options of every command that renders, installs or drives a container.
import type { OptionSpecs } from '../command.js';

export const runtimeOptions: OptionSpecs = {
  'unit-dir': { type: 'string', placeholder: 'DIR', description: 'where units go (default /etc/systemd/system; env SYSCONTAINER_UNIT_DIR)' },
  runtime: { type: 'string', placeholder: 'PATH', description: 'OCI runtime written into units (default runc from PATH; env SYSCONTAINER_RUNTIME)' },
};

export const setOption: OptionSpecs = {
  set: { type: 'string', multiple: true, description: 'KEY=VALUE for a template variable; kept and reused by update' },
};

export const privilegedOption: OptionSpecs = {
  privileged: { type: 'boolean', description: 'grant what the image asks for beyond the default confinement (capabilities, host mounts, namespaces)' },
};

export const confinedOption: OptionSpecs = {
  confined: { type: 'boolean', description: 'refuse anything beyond the default confinement, even what the image\'s /exports declare (also [install] confined = true in /etc/containers/syscontainer.conf)' },
};
