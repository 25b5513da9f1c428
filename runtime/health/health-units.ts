// The pair of units that runs a container's health check under systemd: NAME-healthcheck.timer
// (started with NAME.service, which Wants= it, bound to it so it stops with it) starts
// NAME-healthcheck.service (oneshot) every interval, which runs `syscontainer healthcheck run
// NAME` with the root and settings that installed the container. No check, no units.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ejs from 'ejs';
import { SyscontainerError } from '../../common/errors.js';
import { systemdTimeSpan } from './duration.js';
import type { HealthCheck } from './health-check.js';

export const healthServiceName = (name: string) => `${name}-healthcheck.service`;
export const healthTimerName = (name: string) => `${name}-healthcheck.timer`;

export interface HealthUnits {
  service: string;
  timer: string;
}

/**
 * One argument as systemd's command-line parser reads it back: specifiers (`%`) and variable
 * expansion (`$`) escaped, quoted when it has whitespace, quotes or backslashes. Pure.
 */
export function systemdQuote(arg: string): string {
  if (/[\x00-\x1f\x7f]/.test(arg)) throw new SyscontainerError('EINVAL', `${JSON.stringify(arg)}: control characters cannot go into a unit's command line`);
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && !/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An ExecStart= line for `argv` (its first word an absolute path). Pure. */
export function systemdExecLine(argv: readonly string[]): string {
  const [file] = argv;
  if (file === undefined || !file.startsWith('/')) throw new SyscontainerError('EINVAL', `health check unit: ${JSON.stringify(file ?? '')} is not an absolute path`);
  return argv.map(systemdQuote).join(' ');
}

export interface HealthUnitsInput {
  name: string;
  check: HealthCheck;
  /** The command that runs the check: the installing CLI with its root, then `healthcheck run NAME`. */
  command: readonly string[];
  templatesDir: string;
}

/** Renders NAME-healthcheck.service and NAME-healthcheck.timer. Pure apart from reading the templates. */
export async function renderHealthUnits(input: HealthUnitsInput): Promise<HealthUnits> {
  const { name, check } = input;
  const values = {
    name,
    interval: systemdTimeSpan(check.intervalMs),
    retries: check.retries,
    accuracy: systemdTimeSpan(Math.min(1000, Math.max(1, Math.floor(check.intervalMs / 10)))),
    // healthcheck run kills the check after its timeout; a restart action may take up to 5 minutes.
    startTimeout: systemdTimeSpan(check.timeoutMs + 5 * 60_000),
    execStart: systemdExecLine(input.command),
  };
  const render = async (file: string) => {
    const text = ejs.render(await readFile(path.join(input.templatesDir, file), 'utf8'), values);
    return text.endsWith('\n') ? text : `${text}\n`;
  };
  return { service: await render('healthcheck.service.ejs'), timer: await render('healthcheck.timer.ejs') };
}

/** The command the health service runs: `CLI... [--root ROOT] healthcheck run NAME`. Pure. */
export function healthRunCommand(cli: readonly string[], root: string, name: string): string[] {
  return [...cli, '--root', root, 'healthcheck', 'run', name];
}
