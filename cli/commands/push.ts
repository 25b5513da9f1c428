import { push as pushOperation, SyscontainerError, type PushImageEvent } from '../../app/index.js';
import { stringList } from '../arguments.js';
import type { Command } from '../command.js';
import { formatBytes, shortId } from '../format.js';
import type { Output } from '../output.js';

export const push: Command = {
  name: ['push'],
  summary: 'upload an image (store, oci:DIR, oci-archive:FILE) to a registry or oci:DIR; store images get regenerated layers, so new digests',
  usage: '[--mount-from REPO]... [-q|--quiet] SOURCE REGISTRY/REPO[:TAG]|oci:DIR[:TAG]',
  progress: true,
  options: {
    'mount-from': { type: 'string', multiple: true, placeholder: 'REPO', description: 'a repository of the destination registry to mount blobs from instead of uploading them' },
    quiet: { type: 'boolean', short: 'q', description: 'print only the manifest digest' },
  },
  async run({ app, out, args, options }) {
    const [source, destination, ...extra] = args;
    if (source === undefined || destination === undefined || extra.length > 0) {
      throw new SyscontainerError('EUSAGE', 'push takes exactly SOURCE and DEST');
    }
    const result = await pushOperation(app, { source, destination, mountFrom: stringList(options, 'mount-from') }, { onPush: pushProgress(out) });
    out.info(`${result.destination}: ${result.uploaded} blob(s) uploaded, ${result.mounted} mounted, ${result.present} already present`);
    out.result(result.digest);
  },
};

/** One line per regenerated layer and per blob. */
function pushProgress(out: Output): (event: PushImageEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'pushing':
        out.info(`pushing ${event.source} to ${event.destination}${event.regenerating ? ' (regenerating layer blobs from the store)' : ''}`);
        break;
      case 'layer-regenerated':
        out.status(
          event.storedDigest,
          `layer ${event.index}/${event.layers}  ${shortId(event.storedDigest)} -> ${shortId(event.descriptor.digest)}  ${formatBytes(event.uncompressedSize)} tar, ${formatBytes(event.descriptor.size)} gzip`,
          true,
        );
        break;
      case 'blob-present':
        out.status(event.digest, `${shortId(event.digest)}  already present`, true);
        break;
      case 'blob-mounted':
        out.status(event.digest, `${shortId(event.digest)}  mounted from ${event.from}`, true);
        break;
      case 'blob-uploaded':
        out.status(event.digest, `${shortId(event.digest)}  uploaded (${formatBytes(event.size)})`, true);
        break;
      case 'manifest-pushed':
        out.info(`manifest ${shortId(event.digest)} written (${event.reference.startsWith('sha256:') ? 'by digest' : `tag ${event.reference}`})`);
        break;
    }
  };
}
