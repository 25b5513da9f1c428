// What a test file needs from the host (root, outside tools), said once at its top:
//   const test = testNeeding(needs.runc, needs.busybox, { tools: ['skopeo'] });
// On a host that has it all this is AVA's `test`. On one that lacks something, every test of
// the file is skipped with the reason in its title and no hook runs, unless env CI is set:
// CI has every tool, so there the file fails, naming what is missing.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import test, { type TestFn } from 'ava';

export interface HostNeeds {
  /** Runs as root (ostree's bare repositories, runc, systemd). */
  root?: boolean;
  /** Commands that must be on PATH, or absolute paths of files that must be executable. */
  tools?: readonly string[];
}

/** What the suites need, by what they drive; a file names one or more. */
export const needs = {
  /** An OSTree image store. */
  store: { tools: ['ostree'] },
  /** Debian's docker-registry on loopback (test/helpers/registry-server.ts), and a store. */
  registry: { tools: ['ostree', '/usr/bin/docker-registry'] },
  /** Containers run by runc from deployments: root. */
  runc: { root: true, tools: ['ostree', 'runc'] },
  /** Test images built from the host's static busybox (test/helpers/busybox-image.ts). */
  busybox: { tools: ['/bin/busybox'] },
  /** The systemd harness: systemd as PID 1 of private namespaces (test/helpers/systemd-harness.ts). */
  systemd: { root: true, tools: ['ostree', 'runc', '/lib/systemd/systemd', 'systemctl', 'nsenter', 'unshare', 'setpriv'] },
} satisfies Record<string, HostNeeds>;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `tool` is on PATH; undefined when it is not. An absolute path is itself when executable. */
export function toolPath(tool: string): string | undefined {
  if (tool.startsWith('/')) return executable(tool) ? tool : undefined;
  return (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, tool)).find(executable);
}

/** What this host lacks of `needs`, one phrase each; empty when it has everything. */
export function missingOnHost(needs: HostNeeds): string[] {
  const missing: string[] = [];
  if (needs.root === true && process.getuid?.() !== 0) missing.push('root');
  for (const tool of needs.tools ?? []) if (toolPath(tool) === undefined) missing.push(tool);
  return missing;
}

/** A `test` whose tests are all skipped, the reason in their titles, and whose hooks never run. */
function skippingTest(reason: string): TestFn {
  const skip = (title: unknown, ...rest: unknown[]) =>
    (test.skip as (...args: unknown[]) => void)(typeof title === 'string' ? `${title} (skipped: ${reason})` : title, ...rest);
  const hook = Object.assign(() => undefined, { always: () => undefined, skip: () => undefined });
  const modifiers = { skip, only: skip, failing: skip, todo: test.todo };
  return Object.assign(skip, {
    ...modifiers,
    serial: Object.assign(skip, modifiers),
    before: hook,
    after: hook,
    beforeEach: hook,
    afterEach: hook,
    macro: test.macro,
    meta: test.meta,
  }) as unknown as TestFn;
}

/** AVA's `test` for a file that needs all of `needed` of the host (see the top of this file). */
export function testNeeding(...needed: HostNeeds[]): TestFn {
  const missing = [...new Set(missingOnHost({ root: needed.some((n) => n.root === true), tools: needed.flatMap((n) => n.tools ?? []) }))];
  if (missing.length === 0) return test;
  const reason = `needs ${missing.join(', ')}`;
  if (process.env.CI) {
    test.before(() => {
      throw new Error(`this host lacks what these tests need (${missing.join(', ')}); CI must have it all`);
    });
    return test;
  }
  return skippingTest(reason);
}
