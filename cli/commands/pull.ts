import { pull as pullOperation } from '../../app/index.js';
import { onlyArgument, stringOption } from '../arguments.js';
import type { Command } from '../command.js';
import { pullProgress } from './pull-progress.js';

export const pull: Command = {
  name: ['pull'],
  summary: 'fetch an image from a registry (or oci:DIR, oci-archive:FILE) into the store',
  usage: '[--platform OS/ARCH[/VARIANT]] [-q|--quiet] IMAGE',
  progress: true,
  options: {
    platform: { type: 'string', placeholder: 'OS/ARCH[/VARIANT]', description: "the platform to take from a multi-platform image (default: this host's)" },
    quiet: { type: 'boolean', short: 'q', description: 'print only the manifest digest' },
  },
  async run({ app, out, args, options }) {
    const image = onlyArgument(args, 'pull', 'IMAGE');
    const platform = stringOption(options, 'platform');
    const result = await pullOperation(app, { image, ...(platform !== undefined ? { platform } : {}) }, { onPull: pullProgress(out) });
    out.info(`${result.name}: ${result.layersFetched} layer(s) fetched, ${result.layersPresent} already present`);
    out.result(result.manifestDigest);
  },
};
