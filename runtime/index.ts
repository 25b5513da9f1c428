// Public entry of the runtime layer: what the CLI uses.
export type { RuntimeContext, RuntimeImage, RuntimeImageStore } from './context.js';
export {
  install,
  update,
  rollback,
  uninstall,
  start,
  stop,
  restart,
  status,
  exec,
  logs,
  followLogs,
  list,
  type InstallOptions,
  type UpdateOptions,
  type DeploymentResult,
  type ContainerStatus,
  type ContainerListEntry,
} from './lifecycle.js';
export { Runc, type RuncOptions, type RuncState } from './runc.js';
export { Systemd, type SystemdOptions, type UnitState } from './systemd.js';
export { nsenterPrefix, nsenterPidVariable } from './command-prefix.js';
export { validateContainerName } from './container-name.js';
export { parseSetArguments, validateSetValues, installerVariables, overridableVariables } from './values.js';
export { renderDeployment, type RenderInput, type RenderedDeployment } from './render.js';
export { DeploymentStore, type DeploymentInfo } from './deployment.js';
export { runtimeStoreOf } from './image-store-adapter.js';
export { rootfsInUse } from './rootfs-users.js';
export { describeTemplateVariables, exportTemplateFiles, type TemplateVariable } from './template-variables.js';
export { run, runImageOnce, type RunOptions, type RunResult } from './run-once.js';
export { isSystemImage, runsOnce } from './atomic-labels.js';
