// The runc-direct container's output, DIR/container.log: what the journal keeps under systemd,
// one line per line of output, `SECONDS.MICROSECONDS STREAM TEXT` (STREAM stdout or stderr), in
// the order the lines arrived. The monitor pipes the container's stdout and stderr each through
// a tagger (tagShell) that appends the stamped lines to the file, one write each (O_APPEND), so
// the two streams interleave by time of arrival. A line without that prefix was written before
// the streams were kept apart (or by a one-shot run of that time): it counts as stdout.
import type { JournalEntry } from '../systemd.js';

export const containerLogName = 'container.log';

/**
 * A bash script (bash is Essential in Debian and has EPOCHREALTIME; dash, busybox and mawk have
 * no sub-second clock) stamping each line of its stdin with the time and stream $1, for the log.
 * A last line without a newline is kept (read's status is 1 then, the text is there).
 * It has no single quote (the monitor quotes it so). It ignores the signals its monitor ignores, so only a KILL ends it before its input ends.
 */
export const tagShell = `trap "" HUP INT TERM QUIT; LC_ALL=C
while IFS= read -r line || [ -n "$line" ]; do printf "%s %s %s\\n" "$EPOCHREALTIME" "$1" "$line"; done`;

const tagged = /^(\d+)\.(\d{6}) (stdout|stderr) /;

/** The entries of log text (whole lines); an untagged line is stdout at `untaggedUsec`. */
export function parseContainerLog(text: string, untaggedUsec: number): JournalEntry[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => {
    const m = tagged.exec(line);
    if (m === null) return { timeUsec: untaggedUsec, message: line, stream: 'stdout' as const };
    return { timeUsec: Number(m[1]) * 1e6 + Number(m[2]), message: line.slice(m[0].length), stream: m[3] as 'stdout' | 'stderr' };
  });
}

/** Output as the log keeps it, every line stamped `timeUsec` (a one-shot run's, written at once). */
export function formatContainerLog(text: string, stream: 'stdout' | 'stderr', timeUsec: number): string {
  const stamp = `${Math.floor(timeUsec / 1e6)}.${String(Math.floor(timeUsec % 1e6)).padStart(6, '0')}`;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => `${stamp} ${stream} ${line}\n`).join('');
}

/** The messages of log text, a line each, as `syscontainer logs` prints them. */
export function logMessages(text: string): string {
  return parseContainerLog(text, 0)
    .map((entry) => `${entry.message}\n`)
    .join('');
}
