// Labels Atomic's system container images carry, and what syscontainer does with them:
//  - atomic.type=system: the image is meant to be installed as a system container, so
//    `install` does not need `--system` for it (Atomic's `atomic install IMAGE` did the same);
//  - atomic.run=once: the image does its job and exits (an installer, a setup step): `install`
//    runs it once, in the foreground, instead of installing a service.
import type { RuntimeImage } from './context.js';

function label(image: RuntimeImage, key: string): string | undefined {
  const value = image.config.config?.Labels?.[key];
  return typeof value === 'string' ? value.trim().toLowerCase() : undefined;
}

/** Whether the image says it is a system container (`atomic.type=system`). Pure. */
export function isSystemImage(image: RuntimeImage): boolean {
  return label(image, 'atomic.type') === 'system';
}

/** Whether the image asks to be run once rather than installed as a service (`atomic.run=once`). Pure. */
export function runsOnce(image: RuntimeImage): boolean {
  return label(image, 'atomic.run') === 'once';
}
