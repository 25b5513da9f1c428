// A container that runs once to completion (the container spec's `oneshot`: Kubernetes' init
// containers, paunch's detach: false): its config.json carries an annotation, so whoever
// starts it from its bundle waits for it to finish instead of watching it stay up.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const oneshotAnnotation = 'io.syscontainer.oneshot';

/** Whether the deployment in `bundle` runs once to completion. */
export async function isOneshotBundle(bundle: string): Promise<boolean> {
  try {
    const spec = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as { annotations?: Record<string, string> };
    return spec.annotations?.[oneshotAnnotation] === 'true';
  } catch {
    return false;
  }
}
