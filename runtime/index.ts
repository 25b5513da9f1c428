// Public entry of the runtime layer: what the CLI uses.
export type { RuntimeContext, RuntimeImage, RuntimeImageStore } from './context.js';
// The transactions; each `*HoldingLock` is the same for a caller that holds the container's lock.
export { install, installHoldingLock, type InstallOptions } from './transactions/install.js';
export type { PrivilegePolicy } from './privileges.js';
export { update, updateHoldingLock, type UpdateOptions } from './transactions/update.js';
export { rollback, rollbackHoldingLock } from './transactions/rollback.js';
export { uninstall, uninstallHoldingLock, type UninstallOptions } from './transactions/uninstall.js';
export { start, stop, restart, startHoldingLock, stopHoldingLock, restartHoldingLock } from './transactions/start-stop.js';
export type { DeploymentResult } from './transactions/deployment-result.js';
export { withContainerLock } from './container-lock.js';
// The queries.
export { status, type ContainerStatus } from './queries/status.js';
export { list, type ContainerListEntry } from './queries/list.js';
export { logs, followLogs } from './queries/logs.js';
export { exec, startExec } from './exec.js';
// Who runs containers.
export type { Supervisor, SupervisedState } from './supervisor/supervisor.js';
export { chooseSupervisor, supervisorOf } from './supervisor/choose.js';
export { SystemdSupervisor } from './supervisor/systemd-supervisor.js';
export { RuncSupervisor } from './supervisor/runc-supervisor.js';
export { RolledBackError } from './transactions/rolled-back-error.js';
export { Runc, type RuncOptions, type RuncState, type ExecProcess } from './runc.js';
export { Systemd, type SystemdOptions, type UnitState } from './systemd.js';
export { nsenterPrefix, nsenterPidVariable } from './command-prefix.js';
export { runcOf } from './context.js';
export { validateContainerName } from './container-name.js';
export { parseSetArguments, validateSetValues, installerVariables, overridableVariables } from './values.js';
export { renderDeployment, type RenderInput, type RenderedDeployment } from './render.js';
export { DeploymentStore, type DeploymentInfo, type ActiveDeployment } from './deployment.js';
export { runtimeStoreOf } from './image-store-adapter.js';
export { rootfsInUse } from './rootfs-users.js';
export { describeTemplateVariables, exportTemplateFiles, type TemplateVariable } from './template-variables.js';
export { run, runImageOnce, type RunOptions, type RunResult } from './run-once.js';
export { isSystemImage, runsOnce } from './atomic-labels.js';
// What callers may set over an image's config, and pods (apply).
export { containerSpecSchema, parseContainerSpec, podNamePattern, type ContainerSpec, type ContainerMount } from './container-spec.js';
export { ensurePod, removePod } from './pods.js';
export { parseExportsManifest, type ExportsManifest } from './exports-manifest.js';
export { readRestartCount } from './supervisor/container-monitor.js';
export { readRunRecord, readExitLog, waitForExit, parseExitStatus, type RunRecord, type ContainerExit } from './exit-status.js';
export { kill, normalizeSignal } from './kill.js';
export type { JournalEntry } from './systemd.js';
export { launch } from './launch.js';
export { containerLockDir } from './container-lock.js';
export { parseDuration, formatDuration } from './health/duration.js';
export {
  healthOptionsFromFlags,
  healthOptionsFromImage,
  validateHealthOptions,
  resolveHealthCheck,
  describeHealthCheck,
  defaultHealthDeadlineMs,
  type HealthCheck,
  type HealthOptions,
  type HealthTest,
  type HealthOnFailure,
  type HealthFlags,
} from './health/health-check.js';
export { readHealthState, type HealthState, type HealthStatus, type HealthResult } from './health/health-state.js';
export { healthServiceName, healthTimerName } from './health/health-units.js';
export { parseRestartOption, parseRestartPolicy, type RestartPolicy } from './service/restart-policy.js';
export { validateServiceOptions, mergeServiceOptions, type ServiceOptions, type Dependencies } from './service/service-options.js';
export { requireDependencies } from './service/dependencies-installed.js';
export { runHealthCheck, type HealthRunContext, type HealthRunOutcome } from './health/run-health-check.js';
export { runProbe, type ProbeResult } from './health/probe.js';
export { installAutoUpdateTimer } from './auto-update/install-auto-update-timer.js';
export { autoUpdateTimerName, autoUpdateServiceName } from './auto-update/auto-update-units.js';
export { mountRootfs, unmountRootfs, type MountedRootfs } from './rootfs-mount.js';
