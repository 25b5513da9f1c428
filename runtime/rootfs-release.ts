// Releasing the image rootfs of removed deployments (store/image-rootfs.ts owns the rootfs;
// rootfs-users.ts tells the store which ones deployments still link).
import { shortId } from '../common/digest.js';
import { isSyscontainerError } from '../common/errors.js';
import { say, type RuntimeContext } from './context.js';
import type { DeploymentInfo } from './deployment.js';
import { rootfsInUse } from './rootfs-users.js';

/**
 * After deployments were removed: removes the shared rootfs they used when their image is no
 * longer stored and no other deployment uses it. A failure here leaves a rootfs for
 * `images prune`, and does not fail the command that already did its work.
 */
export async function releaseRootfsOf(ctx: RuntimeContext, infos: ReadonlyArray<DeploymentInfo | undefined>): Promise<void> {
  // Deployments atomic made have their own checkout (removed with them), not a shared rootfs.
  const ids = new Set(infos.flatMap((info) => (info === undefined || info.externalRootfs !== undefined || info.origin === 'atomic' ? [] : [info.imageId])));
  for (const id of ids) {
    await ctx.store.releaseRootfs(id, rootfsInUse(ctx.root)).catch((error: unknown) => {
      say(ctx, `warning: the rootfs of image ${shortId(id)} was not removed (${isSyscontainerError(error) ? error.message : String(error)}); images prune retries`);
    });
  }
}
