import { ImageStore } from '../../store/index.js';
import { parsePlatform, pullImage, type PullEvent } from '../../store/index.js';
import type { Command } from '../command.js';
import { formatBytes, shortId } from '../format.js';
import type { Output } from '../output.js';
import { SyscontainerError } from '../../common/errors.js';

export const pull: Command = {
  name: ['pull'],
  summary: 'fetch an image from a registry (or oci:DIR, oci-archive:FILE) into the store',
  usage: '[--platform OS/ARCH[/VARIANT]] [-q|--quiet] IMAGE',
  options: {
    platform: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  async run({ settings, out, args, options }) {
    const [input, ...extra] = args;
    if (input === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'pull takes exactly one IMAGE');
    const store = new ImageStore(settings.root, { lockWaitMs: settings.lockWaitMs });
    const platform = typeof options.platform === 'string' ? parsePlatform(options.platform) : undefined;
    const result = await pullImage(store, input, settings, { platform, onEvent: progressPrinter(out) });
    out.info(
      `${result.name}: ${result.layersFetched} layer(s) fetched, ${result.layersPresent} already present`,
    );
    out.result(result.manifestDigest);
  },
};

/** Per-layer progress: redrawn lines on a TTY, one line per finished layer elsewhere. */
function progressPrinter(out: Output): (event: PullEvent) => void {
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
