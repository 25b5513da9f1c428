// A container that runs once to completion (the container spec's `oneshot`: Kubernetes' init
// containers, paunch's detach: false): its config.json carries an annotation, so whoever
// starts it from its bundle waits for it to finish instead of watching it stay up.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const oneshotAnnotation = 'io.syscontainer.oneshot';
/** The exit codes that count as success besides 0 (paunch's exit_codes), comma-separated. */
export const successExitCodesAnnotation = 'io.syscontainer.oneshot.success-exit-codes';

async function annotations(bundle: string): Promise<Record<string, string>> {
  try {
    const spec = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as { annotations?: Record<string, string> };
    return spec.annotations ?? {};
  } catch {
    return {};
  }
}

/** Whether the deployment in `bundle` runs once to completion. */
export async function isOneshotBundle(bundle: string): Promise<boolean> {
  return (await annotations(bundle))[oneshotAnnotation] === 'true';
}

/** The exit codes a oneshot in `bundle` succeeds with: 0 and those its spec names. */
export async function oneshotSuccessCodes(bundle: string): Promise<number[]> {
  const extra = (await annotations(bundle))[successExitCodesAnnotation] ?? '';
  return [0, ...extra.split(',').filter((c) => /^\d+$/.test(c)).map(Number)];
}
