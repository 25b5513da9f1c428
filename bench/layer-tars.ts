// The large image's layers as uncompressed tars, written once per bench (untimed) under the
// work dir: the input of the `tar -x` and `ostree commit` floors.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { BenchContext } from './context.js';

const written = new Map<string, Promise<string[]>>();

/** Paths of layer-1.tar … layer-N.tar, in layer order. */
export function layerTars(ctx: BenchContext): Promise<string[]> {
  let tars = written.get(ctx.workDir);
  if (tars === undefined) {
    tars = (async () => {
      const dir = join(ctx.workDir, 'tars');
      await mkdir(dir, { recursive: true });
      const { large, layoutDir } = ctx.images;
      return Promise.all(
        large.layers.map(async (layer, i) => {
          const tar = join(dir, `layer-${i + 1}.tar`);
          await pipeline(createReadStream(join(layoutDir, 'blobs', 'sha256', layer.digest.slice('sha256:'.length))), createGunzip(), createWriteStream(tar));
          return tar;
        }),
      );
    })();
    written.set(ctx.workDir, tars);
  }
  return tars;
}
