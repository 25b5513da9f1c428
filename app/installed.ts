// The installed containers as their deployment records say, read once: what update-all
// updates and what delete-image checks its image against (by full image id).
import { DeploymentStore, type DeploymentInfo } from '../runtime/index.js';
import type { AppContext } from './context.js';

export interface InstalledContainer {
  name: string;
  /** The active deployment's record: image name, full image id (sha256:…), values, revision. */
  info: DeploymentInfo;
}

/** Every container with a complete, active deployment, by name. */
export async function installedContainers(app: AppContext): Promise<InstalledContainer[]> {
  return (await new DeploymentStore(app.settings.root).activeDeployments()).map(({ name, active }) => ({ name, info: active.info }));
}
