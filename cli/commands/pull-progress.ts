// Pull progress as the user sees it: per layer bytes and rate, redrawn on a terminal; one
// line per finished layer elsewhere.
import type { PullEvent } from '../../app/index.js';
import { formatBytes, shortId } from '../format.js';
import type { Output } from '../output.js';

export function pullProgress(out: Output): (event: PullEvent) => void {
  const started = new Map<string, number>();
  const lastDraw = new Map<string, number>();
  return (event) => {
    switch (event.type) {
      case 'resolved':
        out.info(`pulling ${event.image} (${event.layers} layer(s), manifest ${shortId(event.manifestDigest)})`);
        break;
      case 'layer-present':
        out.status(event.digest, `${shortId(event.digest)}  already present`, true);
        break;
      case 'layer-progress': {
        const now = Date.now();
        if (!started.has(event.digest)) started.set(event.digest, now);
        if (now - (lastDraw.get(event.digest) ?? 0) < 100) return;
        lastDraw.set(event.digest, now);
        const seconds = Math.max(0.001, (now - (started.get(event.digest) ?? now)) / 1000);
        out.status(
          event.digest,
          `${shortId(event.digest)}  ${formatBytes(event.received)} / ${formatBytes(event.size)}  ${formatBytes(event.received / seconds)}/s`,
        );
        break;
      }
      case 'layer-stored': {
        const seconds = Math.max(0.001, (Date.now() - (started.get(event.digest) ?? Date.now())) / 1000);
        out.status(event.digest, `${shortId(event.digest)}  ${formatBytes(event.size)} stored in ${seconds.toFixed(1)} s`, true);
        break;
      }
      case 'verified':
        for (const signature of event.record.signatures) {
          out.info(`${event.image}: signed by ${signature.key} as ${signature.identity} (policy scope ${event.record.scope})`);
        }
        break;
      case 'waiting':
        out.info(event.message);
        break;
      case 'stored':
        break;
    }
  };
}
