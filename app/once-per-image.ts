// Work that several containers share because they run the same image (a pull, a manifest
// request): done once per distinct image name, a few images at once, every outcome kept.
import { mapBounded } from '../common/bounded-map.js';

export type PerImage<R> = Map<string, { ok: true; value: R } | { ok: false; error: unknown }>;

/** How many images at once: registry requests are light, and each pull has its own layer concurrency. */
const imagesAtOnce = 4;

/**
 * Calls `work` once for each distinct name in `images`, at most a few at once, and resolves
 * with each name's result or error once all have settled: a failure is that image's (every
 * container of it fails with it), not the others'. Never rejects.
 */
export async function oncePerImage<R>(images: readonly string[], work: (image: string) => Promise<R>): Promise<PerImage<R>> {
  const distinct = [...new Set(images)];
  const settled = await mapBounded(distinct, imagesAtOnce, (image) =>
    work(image).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  );
  return new Map(distinct.map((image, index) => [image, settled[index]!]));
}
