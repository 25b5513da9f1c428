// The application layer: the operations a front end (the CLI, the REST service) calls, and
// everything a front end needs with them. Front ends import this file and nothing else of
// ours. Operations take (context, plain input, callbacks), return plain results and never
// print; errors are SyscontainerErrors with a code, a one-line message and a hint.

// Context and settings
export { readSettings, readContainerSettings, defaultRoot, settingVariables, type Settings, type SettingFlags, type ContainerSettings } from './settings.js';
export { createContext, type AppContext, type OperationEvents } from './context.js';

// Containers
export { installImage, defaultContainerName, type InstallImageInput, type InstallImageResult } from './install-image.js';
export { updateContainer, updateAll, failedOutcome, type UpdateInput, type UpdateAllInput, type UpdateAllEntry, type UpdateAllResult, type UpdateAllEvents, type UpdateOutcome } from './update.js';
export {
  rollbackContainer,
  uninstallContainer,
  startContainer,
  launchContainer,
  relaunchContainer,
  killContainer,
  stopContainer,
  restartContainer,
  containerStatus,
  containerLogs,
  followContainerLogs,
  execInContainer,
  execStreaming,
  listContainers,
  containerFilterKeys,
  type ContainerInput,
  type RollbackInput,
  type LogsInput,
  type ExecInput,
  type ExecResult,
  type StreamingExec,
  type StreamingExecInput,
  type ContainerSummary,
} from './containers.js';
export { run, type RunInput } from './run.js';
export { mountImage, unmountImage } from './mount.js';

// Declared containers: apply, delete -f, generate kube
export { applyFiles, deleteConfig, generateKubeYaml, type ApplyInput, type ApplyEvents, type ApplyResult, type GenerateKubeInput } from './apply-operations.js';
export type { DeclarationProblem } from './apply/declared-container.js';

// Health checks, restart policies, ordering, auto-update (what a service does beyond its image)
export { parseServiceOptions, parseHealthDeadline, type ServiceText } from './service-options.js';
export { runContainerHealthCheck, probeOnce, type HealthRunOutcome } from './health.js';
export { autoUpdate, installAutoUpdateTimer, type AutoUpdateEntry, type AutoUpdateInput, type AutoUpdateOutcome, type AutoUpdateResult } from './auto-update.js';

// Images
export { pull, push, type PullInput, type PushInput, type PushResult } from './transfer.js';
export { listImages, tagImage, verifyImage, pruneImages, splitImageName, imageFilterKeys, type ImageSummary, type ImageListing } from './images.js';
export { describeImage, type ImageDetails } from './describe-image.js';
export { deleteImage, type DeleteImageInput, type DeleteImageResult } from './delete-image.js';
export { login, logout, type LoginInput } from './registry-login.js';
export { showTrust, setTrust } from './trust.js';

// The REST service's tokens and quotas
export { TokenStore, parseDuration, type TokenRecord, type TokenGrant } from './api-tokens.js';
export { QuotaStore, type ProjectQuota } from './quotas.js';
export { validateProjectName, isValidProjectName } from './project-name.js';
export { serviceFiles, type ServiceFiles } from './service-files.js';
export { EventJournal, type RecordedEvent } from './event-journal.js';
export { ContainerEventWatcher, eventJournal, tellEvent } from './container-events.js';

// What front ends need with them: errors, input parsing, result and event types.
export { SyscontainerError, isSyscontainerError, type ErrorCode } from '../common/errors.js';
export { shortId } from '../common/digest.js';
export { builtOnFirstUse } from '../common/built-on-first-use.js';
export type { PullEvent, PullResult, PushImageEvent, PruneReport, VerifyReport, TrustRecord, TrustRecheck, PolicySummary, ScopeSummary, TrustType } from '../store/index.js';
export { trustTypes } from '../store/index.js';
export { parseSetArguments, type ContainerStatus, type DeploymentResult, type RunResult, type TemplateVariable } from '../runtime/index.js';

// The REST service's containers: tenancy, create, views, output, exits, one-off runs
export { projectLabel, maySee, adminOnlyAsks, checkMayDeleteImages, parseAllowedBindSource, type Caller } from './tenancy.js';
export { createContainer, type Tenancy, type CreateContainerInput, type CreatedContainer } from './create-container.js';
export { listContainerViews, containerHealthStates, findView, containerId, effectiveConfig, type ContainerView, type ContainerHealth, type ContainerStateName } from './container-views.js';
export { containerOutput, followContainerOutput, type OutputQuery } from './container-output.js';
export { waitForContainer, settledView, nextExit, waitConditions, lostExitResult, type WaitCondition } from './container-exit.js';
export { OneOffRuns, type OneOffRun, type OneOffState } from './one-off-runs.js';
export { repairDebris } from './repair-debris.js';
export { installServiceUnits, type ServiceUnitOptions } from './service-units.js';
export { findImage } from './images.js';
export {
  readRunRecord,
  parseContainerSpec,
  validateContainerName,
  type ContainerSpec,
  type ContainerMount,
  type RunRecord,
  type JournalEntry,
} from '../runtime/index.js';
export type { StoredImage } from '../store/index.js';
// The service model front ends build from structured input (apply's probes, the REST API's
// docker HealthConfig in nanoseconds and RestartPolicy): validated again by the runtime.
export {
  healthOptionsFromImage as healthOptionsFromDocker,
  validateServiceOptions,
  RolledBackError,
  type ServiceOptions,
  type HealthOptions,
  type HealthCheck,
  type HealthOnFailure,
  type HealthState,
  type HealthStatus,
  type HealthResult,
  type RestartPolicy,
  type Dependencies,
} from '../runtime/index.js';
