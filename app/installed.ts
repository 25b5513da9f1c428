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
  const deployments = new DeploymentStore(app.settings.root);
  const installed: InstalledContainer[] = [];
  for (const name of await deployments.names()) {
    const active = await deployments.active(name);
    if (active !== undefined) installed.push({ name, info: active.info });
  }
  return installed;
}
