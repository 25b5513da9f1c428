// Types of the OCI image spec (and the Docker schema2 equivalents), with validators.
// Everything that arrives from a registry, an OCI layout or an image is untrusted: it is
// parsed here, against these schemas, before any other module looks at it.
import * as z from 'zod';
import { SyscontainerError } from '../../common/errors.js';
import { builtOnFirstUse } from '../../common/built-on-first-use.js';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export const manifestMediaTypes: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
export const indexMediaTypes: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];

export type Compression = 'gzip' | 'zstd' | 'none';

/** How a layer's bytes are compressed, from its media type; undefined when not a layer we know. */
export function layerCompression(mediaType: string): Compression | undefined {
  switch (mediaType) {
    case MediaType.ociLayer:
      return 'none';
    case MediaType.ociLayerGzip:
    case MediaType.ociLayerNondistributableGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerLayerForeign:
      return 'gzip';
    case MediaType.ociLayerZstd:
      return 'zstd';
    default:
      return undefined;
  }
}

// Upper bounds on what we accept, so hostile input cannot exhaust memory.
export const limits = {
  manifestBytes: 4 * 1024 * 1024,
  configBytes: 8 * 1024 * 1024,
  layers: 256,
  indexEntries: 1024,
} as const;

export const digestPattern = /^sha256:[a-f0-9]{64}$/;
const digest = builtOnFirstUse(() => z.string().regex(digestPattern, 'not a sha256 digest'));
const annotations = builtOnFirstUse(() => z.record(z.string(), z.string()).optional());

export const platformSchema = builtOnFirstUse(() => z.object({
  architecture: z.string().min(1),
  os: z.string().min(1),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
}));
export type Platform = z.infer<typeof platformSchema>;

export const descriptorSchema = builtOnFirstUse(() => z.object({
  mediaType: z.string().min(1),
  digest,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  urls: z.array(z.string()).optional(),
  annotations,
  platform: platformSchema.optional(),
}));
export type Descriptor = z.infer<typeof descriptorSchema>;

export const manifestSchema = builtOnFirstUse(() => z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(limits.layers),
  annotations,
}));
export type ImageManifest = z.infer<typeof manifestSchema>;

export const indexSchema = builtOnFirstUse(() => z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema).max(limits.indexEntries),
  annotations,
}));
export type ImageIndex = z.infer<typeof indexSchema>;

const stringList = builtOnFirstUse(() => z.array(z.string()).nullish());
export const imageConfigSchema = builtOnFirstUse(() => z.object({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string().min(1),
  os: z.string().min(1),
  variant: z.string().optional(),
  config: z
    .object({
      User: z.string().optional(),
      ExposedPorts: z.record(z.string(), z.object({}).passthrough()).nullish(),
      Env: stringList,
      Entrypoint: stringList,
      Cmd: stringList,
      Volumes: z.record(z.string(), z.object({}).passthrough()).nullish(),
      WorkingDir: z.string().optional(),
      Labels: z.record(z.string(), z.string()).nullish(),
      StopSignal: z.string().optional(),
    })
    .passthrough()
    .nullish(),
  rootfs: z.object({
    type: z.literal('layers'),
    diff_ids: z.array(digest).max(limits.layers),
  }),
  history: z.array(z.object({}).passthrough()).optional(),
}));
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** Parses untrusted JSON bytes against a schema; the error names `what` and the first fault. */
export function parseJson<T>(schema: z.ZodType<T>, bytes: Uint8Array | string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new SyscontainerError('EMANIFEST', `${what} is not valid JSON`, { cause: error });
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new SyscontainerError('EMANIFEST', `${what} is malformed${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
