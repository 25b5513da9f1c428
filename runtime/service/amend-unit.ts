// Lays what the user asked of the service over a rendered unit (ours or an image's own
// service.template): restart policy, ordering after other containers, Type=notify, and the
// health-check timer that starts with the container. Only what was asked changes; an image's
// own Restart= stays unless a policy was given.
import { addToDirective, setDirective } from './unit-directives.js';
import { applyRestartPolicy, type RestartPolicy } from './restart-policy.js';
import type { Dependencies } from './service-options.js';

export interface UnitAmendments {
  restart?: RestartPolicy;
  /** With on-failure: the most restarts (else systemd's 5 starts in 30 s). */
  restartRetries?: number;
  dependencies?: Dependencies;
  notify?: boolean;
  /** The timer unit started with this one (NAME-healthcheck.timer), when the container has a check. */
  healthTimer?: string;
}

const service = (name: string) => `${name}.service`;

/** The unit with `amendments` applied. Pure. */
export function amendUnit(unit: string, amendments: UnitAmendments): string {
  let out = unit;
  if (amendments.restart !== undefined) out = applyRestartPolicy(out, amendments.restart, amendments.restartRetries);
  const deps = amendments.dependencies;
  if (deps !== undefined) {
    if (deps.requires.length > 0) out = addToDirective(out, 'Unit', 'Requires', deps.requires.map(service));
    if (deps.wants.length > 0) out = addToDirective(out, 'Unit', 'Wants', deps.wants.map(service));
    const after = [...deps.requires, ...deps.wants, ...deps.after];
    if (after.length > 0) out = addToDirective(out, 'Unit', 'After', [...new Set(after)].map(service));
  }
  if (amendments.notify === true) {
    out = setDirective(out, 'Service', 'Type', ['notify']);
    // runc is the main process but the READY=1 comes from the container's process.
    out = setDirective(out, 'Service', 'NotifyAccess', ['all']);
  }
  if (amendments.healthTimer !== undefined) out = addToDirective(out, 'Unit', 'Wants', [amendments.healthTimer]);
  return out.endsWith('\n') ? out : `${out}\n`;
}
