// Tests drive a real systemd that runs as PID 1 of a private PID+mount namespace (see
// test/helpers/systemd-harness.ts). Commands that talk to it (systemctl, journalctl, runc,
// whose state lives in that namespace's private /run) then run through `nsenter`. The context
// builder reads the pid from the environment (nsenterPidVariable) and puts the prefix into
// RuntimeContext.commandPrefix and the Systemd wrapper.

export const nsenterPidVariable = 'SYSCONTAINER_SYSTEMD_NSENTER_PID';

/** `nsenter -t PID -m -p` for the given pid; [] when there is none. */
export function nsenterPrefix(pid: number | string | undefined): string[] {
  if (pid === undefined || pid === '') return [];
  const text = String(pid);
  if (!/^\d+$/.test(text)) throw new Error(`${nsenterPidVariable}=${text}: not a pid`);
  return ['nsenter', '-t', text, '-m', '-p'];
}

/** Splits a command with an optional prefix into file and arguments for execa. */
export function withPrefix(prefix: readonly string[], file: string, args: readonly string[]): [string, string[]] {
  if (prefix.length === 0) return [file, [...args]];
  return [prefix[0] as string, [...prefix.slice(1), file, ...args]];
}
