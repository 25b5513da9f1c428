// Polls `check` until it holds: for what a test waits on (a unit settling, a file appearing).
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves once `check` returns true; throws "timed out waiting for WHAT" after `ms`. */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
