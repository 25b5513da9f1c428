// Container names become file names (ROOT/NAME.0, NAME.service), runc ids and cgroup path
// elements, so they are restricted to characters that are safe in all of those.
import { SyscontainerError } from '../common/errors.js';

// Not starting with `-` either: the name is passed to runc, systemctl and journalctl as an
// argument and must never read as an option.
const namePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Whether `name` is a valid container name (validateContainerName would accept it). Pure. */
export function isValidContainerName(name: string): boolean {
  return namePattern.test(name);
}

/** Throws EINVAL unless `name` is 1–64 of [A-Za-z0-9_.-] and does not start with `.` or `-`. Pure. */
export function validateContainerName(name: string): void {
  if (!namePattern.test(name)) {
    const why =
      name.length === 0
        ? 'is empty'
        : name.length > 64
          ? 'is longer than 64 characters'
          : name.startsWith('.') || name.startsWith('-')
            ? `starts with "${name[0]}"`
            : 'has characters outside [A-Za-z0-9_.-]';
    throw new SyscontainerError('EINVAL', `container name ${JSON.stringify(name)} ${why}`, {
      hint: 'use 1 to 64 letters, digits, "_", "." or "-", not starting with "." or "-"',
    });
  }
}
