// delete-image: an image goes only when no installed container runs it, by name or by image
// id (another name of the same image id counts: the container runs that content).
import { rootfsInUse } from '../runtime/index.js';
import { SyscontainerError } from '../common/errors.js';
import type { AppContext } from './context.js';
import { findImage } from './images.js';
import { installedContainers } from './installed.js';

export interface DeleteImageInput {
  image: string;
  /** Delete it even when containers use it: they keep running from its rootfs, which goes with the last of them. */
  force?: boolean;
}

export interface DeleteImageResult {
  /** The stored name deleted. */
  name: string;
  /** Containers that used it (only with force). */
  users: string[];
}

export async function deleteImage(app: AppContext, input: DeleteImageInput): Promise<DeleteImageResult> {
  const image = await findImage(app, input.image);
  const users = (await installedContainers(app))
    .filter(({ info }) => info.imageId === image.configDigest || info.image === image.name)
    .map(({ name }) => name);
  if (users.length > 0 && input.force !== true) {
    throw new SyscontainerError('EINVAL', `image ${image.name} is used by container(s) ${users.join(', ')}`, {
      hint: 'uninstall them first, or delete with --force (their deployments keep their files)',
    });
  }
  // Its rootfs goes too, unless a deployment (kept by force) still runs from it.
  await app.store.deleteImage(image.name, rootfsInUse(app.settings.root));
  return { name: image.name, users };
}
