// The declarative operations (apply, delete -f, generate kube) as the entry exports them:
// each loads app/apply/ (YAML, the Kubernetes and paunch schemas) on its first call, so the
// other commands do not build those schemas at every start (the health-check timer runs the
// CLI per container per interval). The bundle leaves a module reached only through
// `import()` unrun until then.
import type * as ApplyFiles from './apply/apply-files.js';
import type * as GenerateOperation from './apply/generate-operation.js';

export type { ApplyInput, ApplyEvents, ApplyResult } from './apply/apply-files.js';
export type { GenerateKubeInput } from './apply/generate-operation.js';

export async function applyFiles(...args: Parameters<typeof ApplyFiles.applyFiles>): ReturnType<typeof ApplyFiles.applyFiles> {
  return (await import('./apply/apply-files.js')).applyFiles(...args);
}

export async function deleteConfig(...args: Parameters<typeof ApplyFiles.deleteConfig>): ReturnType<typeof ApplyFiles.deleteConfig> {
  return (await import('./apply/apply-files.js')).deleteConfig(...args);
}

export async function generateKubeYaml(...args: Parameters<typeof GenerateOperation.generateKubeYaml>): ReturnType<typeof GenerateOperation.generateKubeYaml> {
  return (await import('./apply/generate-operation.js')).generateKubeYaml(...args);
}
