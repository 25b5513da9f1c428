// Sends a signal to a container's init (through its supervisor: `runc kill`): docker's kill. Under systemd the unit
// sees its main process (runc) exit with the container and records the exit as for any other.
import { SyscontainerError } from '../common/errors.js';
import { runcOf, type RuntimeContext } from './context.js';
import { supervisorOf } from './supervisor/choose.js';
import { DeploymentStore } from './deployment.js';
import { validateContainerName } from './container-name.js';

const signalNames = ['HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS'];

/** "SIGKILL", "kill", "9" → "KILL"; EINVAL for anything else. */
export function normalizeSignal(signal: string): string {
  const text = signal.trim().toUpperCase().replace(/^SIG/, '');
  if (/^\d{1,2}$/.test(text)) {
    const name = signalNames[Number(text) - 1];
    if (name !== undefined) return name;
  } else if (signalNames.includes(text)) {
    return text;
  }
  throw new SyscontainerError('EINVAL', `signal ${JSON.stringify(signal.slice(0, 20))} is not a signal name or number`);
}

export async function kill(ctx: RuntimeContext, options: { name: string; signal?: string }): Promise<void> {
  validateContainerName(options.name);
  if ((await new DeploymentStore(ctx.root).active(options.name)) === undefined) throw new SyscontainerError('ENOTFOUND', `container ${options.name} is not installed`);
  const signal = normalizeSignal(options.signal ?? 'KILL');
  const runc = runcOf(ctx);
  const state = await runc.state(options.name);
  if (state?.status !== 'running') throw new SyscontainerError('EEXIST', `container ${options.name} is not running`);
  await (await supervisorOf(ctx)).kill(options.name, signal);
}
