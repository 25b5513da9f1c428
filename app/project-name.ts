// Project names (X-Auth-Project-Id, `token create --project`, quotas) go into container labels
// and files: a short, plain identifier, nothing that needs escaping anywhere.
import { SyscontainerError } from '../common/errors.js';

const projectPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateProjectName(project: string): void {
  if (!projectPattern.test(project)) {
    throw new SyscontainerError('EINVAL', `project ${JSON.stringify(project.slice(0, 80))}: expected 1-64 characters of [A-Za-z0-9_.-], starting with a letter or digit`);
  }
}

export function isValidProjectName(project: string): boolean {
  return projectPattern.test(project);
}
