import type { DeploymentInfo } from '../deployment.js';

/** What install, update and rollback did. */
export interface DeploymentResult {
  name: string;
  info: DeploymentInfo;
  /** False when update found nothing to do. */
  changed: boolean;
  /** Whether the container was (re)started. */
  started: boolean;
  privileges: string[];
}
