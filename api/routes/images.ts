// Image routes: list, inspect, pull (POST /images/create, progress streamed as docker writes
// it) and delete. Images are shared by every project (one store per host): any token may list
// and pull them, deleting one needs an admin token.
import { checkMayDeleteImages, deleteImage, pull as pullImage, shortId, type PullEvent, type StoredImage } from '../../app/index.js';
import { HttpError } from '../http-error.js';
import { isPlausibleImageName } from '../image-name.js';
import type { RouteCall, RouteHandler } from '../server.js';
import type { Router } from '../router.js';

function repoDigest(image: StoredImage): string {
  const at = image.name.indexOf('@');
  const base = at >= 0 ? image.name.slice(0, at) : image.name;
  const colon = base.lastIndexOf(':');
  const repo = colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
  return `${repo}@${image.manifestDigest}`;
}

const seconds = (iso: string | undefined) => (iso === undefined || Number.isNaN(Date.parse(iso)) ? 0 : Math.floor(Date.parse(iso) / 1000));

async function findImage(call: RouteCall, name: string): Promise<StoredImage> {
  const image = isPlausibleImageName(name) ? await call.services.app.store.getImage(name) : undefined;
  if (image === undefined) throw new HttpError(404, `No such image: ${name.slice(0, 256)}`);
  return image;
}

async function list(call: RouteCall): Promise<void> {
  const images = await call.services.app.store.listImages();
  call.reply.json(
    200,
    images.map((image) => ({
      Id: image.configDigest,
      ParentId: '',
      RepoTags: [image.name],
      RepoDigests: [repoDigest(image)],
      Created: seconds(image.created ?? image.config.created),
      Size: image.size,
      VirtualSize: image.size,
      SharedSize: -1,
      Labels: image.config.config?.Labels ?? {},
      Containers: -1,
    })),
  );
}

async function inspect(call: RouteCall): Promise<void> {
  const image = await findImage(call, call.params.name as string);
  call.reply.json(200, {
    Id: image.configDigest,
    RepoTags: [image.name],
    RepoDigests: [repoDigest(image)],
    Parent: '',
    Comment: '',
    Created: image.created ?? image.config.created ?? '',
    Container: '',
    Config: image.config.config ?? {},
    DockerVersion: '',
    Author: image.config.author ?? '',
    Architecture: image.config.architecture,
    Os: image.config.os,
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: { Name: 'ostree', Data: {} },
    RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  });
}

/** One progress message as docker's pull writes it. */
function progressMessage(event: PullEvent): Record<string, unknown> | undefined {
  switch (event.type) {
    case 'resolved':
      return { status: `Pulling from ${event.image.replace(/:[^:/]*$/, '')}`, id: event.image.split(':').pop() };
    case 'layer-present':
      return { status: 'Already exists', progressDetail: {}, id: shortId(event.digest) };
    case 'layer-progress':
      return { status: 'Downloading', progressDetail: { current: event.received, total: event.size }, id: shortId(event.digest) };
    case 'layer-stored':
      return { status: 'Pull complete', progressDetail: {}, id: shortId(event.digest) };
    case 'waiting':
      return { status: event.message };
    default:
      return undefined;
  }
}

async function pull(call: RouteCall): Promise<void> {
  const fromImage = call.query.get('fromImage');
  if (fromImage === null || fromImage === '') throw new HttpError(400, 'fromImage is required (building images and fromSrc are not supported)');
  const tag = call.query.get('tag') ?? '';
  if (tag !== '' && !/^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$/.test(tag)) throw new HttpError(400, 'tag: not a valid tag or digest');
  const name = tag === '' ? fromImage : `${fromImage}${tag.startsWith('sha256:') ? '@' : ':'}${tag}`;
  if (!isPlausibleImageName(name)) throw new HttpError(400, `fromImage: ${JSON.stringify(name.slice(0, 200))} is not an image reference`);
  let out: ReturnType<typeof call.reply.stream> | undefined;
  const send = (message: Record<string, unknown>) => {
    out ??= call.reply.stream(200, 'application/json');
    out.write(`${JSON.stringify(message)}\n`);
  };
  let last = 0;
  try {
    const result = await pullImage(call.services.app, { image: name }, {
      onPull: (event) => {
        // Progress at most every 200 ms per pull: a client does not need every chunk.
        if (event.type === 'layer-progress' && Date.now() - last < 200) return;
        last = Date.now();
        const message = progressMessage(event);
        if (message !== undefined) send(message);
      },
    });
    send({ status: `Digest: ${result.manifestDigest}` });
    send({ status: `Status: ${result.layersFetched > 0 ? 'Downloaded newer image' : 'Image is up to date'} for ${result.name}` });
    call.services.events.emit('image', 'pull', result.name, { name: result.name }, call.principal.project);
    out?.end();
  } catch (error) {
    // Before anything was sent the status says it; after, docker's in-stream error object does.
    if (out === undefined) throw error;
    const message = error instanceof Error ? error.message : String(error);
    out.end(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
  }
}

async function remove(call: RouteCall): Promise<void> {
  checkMayDeleteImages(call.principal);
  const image = await findImage(call, call.params.name as string);
  const force = ['1', 'true'].includes(call.query.get('force') ?? '');
  await deleteImage(call.services.app, { image: image.name, force });
  call.services.events.emit('image', 'delete', image.configDigest, { name: image.name }, call.principal.project);
  call.reply.json(200, [{ Untagged: image.name }, { Deleted: image.configDigest }]);
}

export function imageRoutes(router: Router<RouteHandler>): void {
  router
    .add('GET', '/images/json', list)
    .add('POST', '/images/create', pull)
    .add('GET', '/images/{name*}/json', inspect)
    .add('DELETE', '/images/{name*}', remove);
}
