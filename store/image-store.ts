// The image store: an OSTree repository laid out as Atomic/skopeo did it (see
// shared/notes/atomic-compat.md), so repos written by either tool can be read and written.
//   ociimage/<hex of layer digest>   layer commit; metadata docker.size,
//                                    docker.uncompressed_size, docker.uncompressed_digest
//   ociimage/<hex of config digest>  tree with /content (the config JSON)
//   ociimage/<encoded name>          tree with /manifest.json; metadata docker.manifest,
//                                    docker.digest — written last
// Everything read back from the repository is parsed and checked like network input.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { sha256Digest, shortDigest } from '../common/digest.js';
import { IntegrityError, SyscontainerError } from '../common/errors.js';
import {
  digestPattern,
  imageConfigSchema,
  limits,
  manifestSchema,
  parseJson,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from './oci/oci-types.js';
import { withLock } from '../common/file-lock.js';
import { storeLockDir } from './store-locks.js';
import { pruneImageRootfs, releaseImageRootfs, type RootfsInUse } from './content/image-rootfs.js';
import { OstreeRepo, maxMetadataArgBytes, type RepoMode } from './ostree/ostree-repo.js';
import { trustRecordSchema, type TrustRecord } from './trust/trust-record.js';
import { blobRef, digestFromBlobRef, imageNameFromRef, imageRef, refPrefix } from './ref-names.js';
import { formatReference, parseReference, qualifyReference } from './oci/reference.js';
import { loadRegistriesConf } from './registry/registries-conf.js';
import {
  importLayer,
  layerMetadataKeys,
  storedLayer,
  type ImportedLayer,
  type LayerImportOptions,
  type LayerProgress,
} from './content/layer-import.js';

export const imageMetadataKeys = {
  manifest: 'docker.manifest',
  digest: 'docker.digest',
  /** What the signature policy verified at pull (JSON, see trust/pull-trust.ts); absent without a policy. */
  trust: 'syscontainer.trust',
} as const;

export interface StoredImageLayer {
  digest: string;
  /** Empty when the layer's ref is missing or lacks its metadata (a broken image). */
  commit: string;
  size: number;
  uncompressedSize: number;
}

export interface StoredImage {
  name: string;
  ref: string;
  commit: string;
  manifestDigest: string;
  manifest: ImageManifest;
  configDigest: string;
  config: ImageConfig;
  layers: StoredImageLayer[];
  created?: string;
  /** Sum of the layers' uncompressed sizes. */
  size: number;
  /** What the signature policy verified when the image was pulled. */
  trust?: TrustRecord;
}

export interface VerifyReport {
  name: string;
  ok: boolean;
  /** One line per fault found; empty when ok. */
  problems: string[];
}

export interface PruneReport {
  /** Blob refs removed (no image uses them and no container holds their commit). */
  removedRefs: string[];
  /** Image ids whose shared rootfs was removed (image gone, no deployment using it). */
  removedRootfs: string[];
}

export interface PruneOptions {
  /** Layer commits to keep even when no image uses them. */
  keepCommits?: Set<string>;
  /** Whether a deployment uses a rootfs directory (see image-rootfs.ts); default: none does. */
  rootfsInUse?: RootfsInUse;
  onWait?: (message: string) => void;
}

export interface ImageStoreOptions {
  /** Repository mode for a new repository. Default: bare as root, bare-user otherwise. */
  mode?: RepoMode;
  /** Repository location. Default ROOT/.storage/ostree. */
  repoPath?: string;
  /** How long the store's locks wait for another holder before ELOCKED (default 5 min). */
  lockWaitMs?: number | undefined;
  /**
   * registries.conf whose aliases and unqualified-search registries turn a short name into
   * full ones for getImage, as pull does (undefined: the default path; missing: none).
   */
  registriesConf?: string | undefined;
}

export class ImageStore {
  readonly root: string;
  readonly repo: OstreeRepo;
  readonly mode: RepoMode;
  readonly lockWaitMs: number | undefined;
  private ensured: Promise<string> | undefined;
  /** Config bytes by config commit checksum, for readImage (see storedConfig). */
  private readonly configBytes = new Map<string, Promise<Buffer>>();

  private readonly registriesConf: string | undefined;

  constructor(root: string, options: ImageStoreOptions = {}) {
    this.root = root;
    this.repo = new OstreeRepo(options.repoPath ?? join(root, '.storage', 'ostree'));
    this.mode = options.mode ?? (process.getuid?.() === 0 ? 'bare' : 'bare-user');
    this.lockWaitMs = options.lockWaitMs;
    this.registriesConf = options.registriesConf;
  }

  /**
   * The full names a short name stands for, in registries.conf order (an alias, then each
   * unqualified-search registry); [] for a full name, an id, or when nothing is configured.
   */
  private async qualifiedNames(name: string): Promise<string[]> {
    try {
      const ref = parseReference(name);
      if (ref.registry !== undefined || ref.digest !== undefined) return [];
      return qualifyReference(ref, await loadRegistriesConf(this.registriesConf)).map((candidate) => formatReference({ ...candidate, tag: candidate.tag ?? 'latest' }));
    } catch {
      return [];
    }
  }

  /** Creates the repository on first use; idempotent. Returns the repository's actual mode. */
  ensure(): Promise<string> {
    this.ensured ??= this.repo.ensure(this.mode).catch((error: unknown) => {
      this.ensured = undefined;
      throw error;
    });
    return this.ensured;
  }

  /** Whether checkouts must skip ownership (non-root, or a bare-user repository). */
  async checkoutUserMode(): Promise<boolean> {
    const mode = await this.ensure();
    return mode !== 'bare' || process.getuid?.() !== 0;
  }

  async hasLayer(digest: string): Promise<boolean> {
    if (!(await this.repo.exists())) return false;
    return (await storedLayer(this.repo, digest)) !== undefined;
  }

  /** See layer-import.ts: streams, verifies the diff_id, sets the ref last; skips a stored layer. */
  async importLayer(
    descriptor: Descriptor,
    verifiedStream: Readable,
    expectedDiffId: string,
    onProgress?: (progress: LayerProgress) => void,
    options?: LayerImportOptions,
  ): Promise<ImportedLayer> {
    try {
      await this.ensure();
    } catch (error) {
      verifiedStream.destroy();
      throw error;
    }
    return importLayer(this.repo, descriptor, verifiedStream, expectedDiffId, onProgress, options);
  }

  /**
   * Stores the config blob as a commit holding /content, ref ociimage/<hex>. Verifies the
   * digest and that the bytes parse as an image config. Idempotent (an intact stored config
   * is kept).
   */
  async writeConfig(configDigest: string, configBytes: Buffer): Promise<string> {
    if (configBytes.length > limits.configBytes) {
      throw new SyscontainerError('ELIMIT', `config ${shortDigest(configDigest)}: ${configBytes.length} bytes exceeds ${limits.configBytes}`);
    }
    const actual = sha256Digest(configBytes);
    if (actual !== configDigest) throw new IntegrityError(`config ${shortDigest(configDigest)} digest`, configDigest, actual);
    parseJson(imageConfigSchema, configBytes, `config ${shortDigest(configDigest)}`);
    await this.ensure();
    const ref = blobRef(configDigest);
    const existing = await this.repo.resolveRef(ref);
    if (existing !== undefined) {
      const stored = await this.repo.readFile(existing, '/content', limits.configBytes).catch(() => undefined);
      if (stored && sha256Digest(stored) === configDigest) return existing;
    }
    return this.repo.commitFiles({ content: configBytes }, { [layerMetadataKeys.size]: String(configBytes.length) }, { ref });
  }

  /**
   * Writes the image commit (/manifest.json; metadata docker.manifest and docker.digest) and
   * points ociimage/<encoded name> at it. Last step of a pull: refuses (ENOTFOUND) unless the
   * config and every layer are stored with matching metadata, so an image ref never points at
   * an incomplete image. Replaces an existing image of the same name.
   */
  async writeImage(name: string, manifestBytes: Buffer, manifestDigest: string, trust?: TrustRecord): Promise<string> {
    const what = `image ${name}`;
    if (manifestBytes.length > limits.manifestBytes) {
      throw new SyscontainerError('ELIMIT', `${what}: manifest of ${manifestBytes.length} bytes exceeds ${limits.manifestBytes}`);
    }
    const actual = sha256Digest(manifestBytes);
    if (actual !== manifestDigest) throw new IntegrityError(`${what}: manifest digest`, manifestDigest, actual);
    const manifest = parseJson(manifestSchema, manifestBytes, `${what}: manifest`);
    const ref = imageRef(name);
    await this.ensure();

    const configCommit = await this.repo.resolveRef(blobRef(manifest.config.digest));
    if (configCommit === undefined) {
      throw new SyscontainerError('ENOTFOUND', `${what}: config ${shortDigest(manifest.config.digest)} is not stored`);
    }
    const config = parseJson(imageConfigSchema, await this.repo.readFile(configCommit, '/content', limits.configBytes), `${what}: config`);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new SyscontainerError('EMANIFEST', `${what}: manifest has ${manifest.layers.length} layers, config lists ${config.rootfs.diff_ids.length} diff_ids`);
    }
    const layers = await Promise.all(manifest.layers.map((layer) => storedLayer(this.repo, layer.digest)));
    layers.forEach((layer, index) => {
      const descriptor = manifest.layers[index]!;
      if (layer === undefined) throw new SyscontainerError('ENOTFOUND', `${what}: layer ${shortDigest(descriptor.digest)} is not stored`);
      if (layer.diffId !== config.rootfs.diff_ids[index]) {
        throw new IntegrityError(`${what}: layer ${shortDigest(descriptor.digest)} diff_id`, String(config.rootfs.diff_ids[index]), layer.diffId);
      }
    });

    const manifestText = manifestBytes.toString('utf8');
    const metadata: Record<string, string> = { [imageMetadataKeys.digest]: manifestDigest };
    // The command line cannot carry more than 128 KiB; /manifest.json always has the manifest.
    if (Buffer.byteLength(manifestText) + 64 <= maxMetadataArgBytes) metadata[imageMetadataKeys.manifest] = manifestText;
    if (trust !== undefined) metadata[imageMetadataKeys.trust] = JSON.stringify(trust);
    return this.repo.commitFiles({ 'manifest.json': manifestBytes }, metadata, { ref });
  }

  /**
   * The manifest digest stored under image `name`, or undefined. Two ostree calls: the cheap
   * "already pulled?" check. The image ref is written only once everything it needs is
   * stored, so a matching digest means the whole image is there.
   */
  async storedManifestDigest(name: string): Promise<string | undefined> {
    if (!(await this.repo.exists())) return undefined;
    const commit = await this.repo.resolveRef(imageRef(name));
    return commit === undefined ? undefined : this.repo.metadataString(commit, imageMetadataKeys.digest);
  }

  /** Whether image `name` carries the same trust record as `trust` (the time of the check aside). */
  async hasTrustRecord(name: string, trust: TrustRecord): Promise<boolean> {
    const commit = await this.repo.resolveRef(imageRef(name));
    const stored = commit === undefined ? undefined : await this.storedTrust(commit);
    const comparable = (record: TrustRecord) => JSON.stringify({ ...record, verifiedAt: '' });
    return stored !== undefined && comparable(stored) === comparable(trust);
  }

  private async storedTrust(commit: string): Promise<TrustRecord | undefined> {
    const text = await this.repo.metadataString(commit, imageMetadataKeys.trust);
    if (text === undefined) return undefined;
    try {
      const parsed = trustRecordSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The parsed config held by config commit `configCommit`. A commit's tree never changes, so
   * the bytes are read once per ImageStore (a command reads its image more than once).
   */
  private async storedConfig(configCommit: string, what: string): Promise<ImageConfig> {
    let bytes = this.configBytes.get(configCommit);
    if (bytes === undefined) {
      bytes = this.repo.readFile(configCommit, '/content', limits.configBytes);
      this.configBytes.set(configCommit, bytes);
      bytes.catch(() => this.configBytes.delete(configCommit));
    }
    return parseJson(imageConfigSchema, await bytes, `${what}: stored config`);
  }

  /** Reads one image ref. Throws when the manifest or config cannot be read or parsed. */
  /** An image commit's manifest bytes: docker.manifest metadata, else /manifest.json. */
  private async storedManifestBytes(commit: string): Promise<Buffer> {
    const manifestText = await this.repo.metadataString(commit, imageMetadataKeys.manifest);
    return manifestText === undefined ? this.repo.readFile(commit, '/manifest.json', limits.manifestBytes) : Buffer.from(manifestText, 'utf8');
  }

  private async storedManifest(name: string, commit: string): Promise<ImageManifest> {
    return parseJson(manifestSchema, await this.storedManifestBytes(commit), `image ${name}: stored manifest`);
  }

  private async readImage(name: string, ref: string, commit: string): Promise<StoredImage> {
    const what = `image ${name}`;
    const manifestBytes = await this.storedManifestBytes(commit);
    const manifest = parseJson(manifestSchema, manifestBytes, `${what}: stored manifest`);
    const manifestDigest = (await this.repo.metadataString(commit, imageMetadataKeys.digest)) ?? sha256Digest(manifestBytes);
    const configDigest = manifest.config.digest;
    const configCommit = await this.repo.resolveRef(blobRef(configDigest));
    if (configCommit === undefined) throw new SyscontainerError('ENOTFOUND', `${what}: config ${shortDigest(configDigest)} is not stored`);
    const [config, layers] = await Promise.all([
      this.storedConfig(configCommit, what),
      Promise.all(
        manifest.layers.map(async (descriptor): Promise<StoredImageLayer> => {
          const layer = await storedLayer(this.repo, descriptor.digest);
          return layer
            ? { digest: descriptor.digest, commit: layer.commit, size: layer.size, uncompressedSize: layer.uncompressedSize }
            : { digest: descriptor.digest, commit: '', size: descriptor.size, uncompressedSize: 0 };
        }),
      ),
    ]);
    const image: StoredImage = {
      name,
      ref,
      commit,
      manifestDigest,
      manifest,
      configDigest,
      config,
      layers,
      size: layers.reduce((sum, layer) => sum + layer.uncompressedSize, 0),
    };
    if (config.created !== undefined) image.created = config.created;
    const trust = await this.storedTrust(commit);
    if (trust !== undefined) image.trust = trust;
    return image;
  }

  /** Names of every image ref, readable or not (listImages leaves unreadable ones out). */
  async imageNames(): Promise<string[]> {
    return (await this.imageRefs()).map(([name]) => name).sort();
  }

  /** Digests of every stored blob (layers and configs, `ociimage/<hex>` refs), sorted: `images list --all`. */
  async blobDigests(): Promise<string[]> {
    if (!(await this.repo.exists())) return [];
    return (await this.repo.listRefs(refPrefix)).flatMap((ref) => digestFromBlobRef(ref) ?? []).sort();
  }

  /** Image refs as [name, ref] pairs (blob refs and foreign refs left out). */
  private async imageRefs(): Promise<Array<[string, string]>> {
    if (!(await this.repo.exists())) return [];
    const refs = await this.repo.listRefs(refPrefix);
    const out: Array<[string, string]> = [];
    for (const ref of refs) {
      const name = imageNameFromRef(ref);
      if (name !== undefined) out.push([name, ref]);
    }
    return out;
  }

  /** Every readable image, sorted by name. Images whose manifest or config is unreadable are left out (verifyImage names the fault). */
  async listImages(): Promise<StoredImage[]> {
    const images: StoredImage[] = [];
    for (const [name, ref] of await this.imageRefs()) {
      const commit = await this.repo.resolveRef(ref);
      if (commit === undefined) continue;
      try {
        images.push(await this.readImage(name, ref, commit));
      } catch (error) {
        if (!(error instanceof SyscontainerError)) throw error;
      }
    }
    return images.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Finds an image by: full name (REGISTRY/REPO:TAG); manifest or config digest; image id (a
   * config digest prefix of at least 12 hex digits, with or without "sha256:"); or a short name:
   * first as registries.conf qualifies it (the first candidate stored wins, as for pull), then
   * REPO:TAG or REPO matching the end of a stored name (tag latest when none; atomic stored
   * short names as they were typed). Undefined when nothing matches; EINVAL when a short name
   * or id matches different images and registries.conf cannot decide.
   */
  async getImage(nameOrId: string): Promise<StoredImage | undefined> {
    if (!(await this.repo.exists())) return undefined;
    try {
      const ref = imageRef(nameOrId);
      const commit = await this.repo.resolveRef(ref);
      if (commit !== undefined) return await this.readImage(nameOrId, ref, commit);
    } catch (error) {
      if (!(error instanceof SyscontainerError) || error.code === 'ESTORE') throw error;
    }
    // A short name means what pull made of it: the first of its registries.conf candidates
    // that is stored. Only when none is does the store's own matching below decide.
    for (const candidate of await this.qualifiedNames(nameOrId)) {
      const ref = imageRef(candidate);
      const commit = await this.repo.resolveRef(ref);
      if (commit !== undefined) return await this.readImage(candidate, ref, commit);
    }
    const images = await this.listImages();
    const pick = (matches: StoredImage[], kind: string): StoredImage | undefined => {
      if (matches.length === 0) return undefined;
      const ids = new Set(matches.map((image) => image.configDigest));
      if (kind === 'id' && ids.size === 1) return matches[0];
      if (matches.length === 1) return matches[0];
      throw new SyscontainerError('EINVAL', `${kind} ${nameOrId} matches several images: ${matches.map((image) => image.name).join(', ')}`);
    };
    if (digestPattern.test(nameOrId)) {
      return pick(images.filter((image) => image.manifestDigest === nameOrId || image.configDigest === nameOrId), 'id');
    }
    const hex = /^(?:sha256:)?([a-f0-9]{12,64})$/.exec(nameOrId)?.[1];
    if (hex !== undefined) {
      const byId = pick(images.filter((image) => image.configDigest.slice(7).startsWith(hex)), 'id');
      if (byId) return byId;
    }
    const lastSlash = nameOrId.lastIndexOf('/');
    const hasTag = nameOrId.slice(lastSlash + 1).includes(':');
    const wanted = hasTag ? [nameOrId] : [nameOrId, `${nameOrId}:latest`];
    return pick(
      images.filter((image) => wanted.some((want) => image.name === want || image.name.endsWith(`/${want}`))),
      'name',
    );
  }

  /** Whether any stored image has config digest (image id) `configDigest`. */
  async hasImageId(configDigest: string): Promise<boolean> {
    if (!(await this.repo.exists())) return false;
    // Only the manifests are read (commit metadata, no process): this runs at every uninstall.
    for (const [name, ref] of await this.imageRefs()) {
      const commit = await this.repo.resolveRef(ref);
      if (commit === undefined) continue;
      const manifest = await this.storedManifest(name, commit).catch(() => undefined);
      if (manifest?.config.digest === configDigest) return true;
    }
    return false;
  }

  /** The commit of a stored layer, or undefined when it is not stored (ref and metadata). */
  async layerCommit(digest: string): Promise<string | undefined> {
    return (await storedLayer(this.repo, digest))?.commit;
  }

  /**
   * Gives stored image `source` (as getImage finds it) the name `target` as well: a second ref
   * to the same commit, no copy (`images tag`). `target` is kept as typed, with `:latest` when
   * it has no tag (as Atomic stored tags). An existing `target` is moved to the image.
   */
  async tagImage(source: string, target: string): Promise<{ source: StoredImage; target: string }> {
    const image = await this.getImage(source);
    if (image === undefined) throw new SyscontainerError('ENOTFOUND', `image ${source} is not stored`);
    const ref = parseReference(target);
    if (ref.digest !== undefined) throw new SyscontainerError('EREFERENCE', `images tag ${target}: a tag cannot name a digest`);
    const name = formatReference({ ...ref, tag: ref.tag ?? 'latest' });
    await this.repo.setRef(imageRef(name), image.commit);
    return { source: image, target: name };
  }

  /**
   * Removes the image ref (blobs stay until prune), then its rootfs unless another name has the
   * same image or `rootfsInUse` says a deployment uses it. ENOTFOUND when there is no such image.
   */
  async deleteImage(name: string, rootfsInUse: RootfsInUse = async () => false): Promise<void> {
    const ref = imageRef(name);
    const commit = (await this.repo.exists()) ? await this.repo.resolveRef(ref) : undefined;
    if (commit === undefined) {
      throw new SyscontainerError('ENOTFOUND', `image ${name} is not stored`);
    }
    const configDigest = await this.readImage(name, ref, commit).then(
      (image) => image.configDigest,
      () => undefined,
    );
    await this.repo.deleteRef(ref);
    if (configDigest !== undefined) await releaseImageRootfs(this, configDigest, rootfsInUse);
  }

  /**
   * Removes blob refs that no image uses and whose commit is not in `keepCommits` (commits
   * checked out by containers), then deletes unreachable objects (`ostree prune --refs-only`,
   * which also removes orphan commits of failed imports), and the rootfs of images no longer
   * stored that `rootfsInUse` does not claim. Must not run concurrently with a pull (an import
   * in progress has an orphan commit no ref protects yet) or a checkout: it holds the store
   * lock exclusively (common/file-lock.ts), waiting for pulls and checkouts to end.
   * Refuses (ESTORE) when an image cannot be read, rather than guess what it uses.
   */
  async prune(options: PruneOptions = {}): Promise<PruneReport> {
    const { onWait } = options;
    return withLock(storeLockDir(this.root), { mode: 'exclusive', what: 'image store', waitMs: this.lockWaitMs, ...(onWait ? { onWait } : {}) }, async () => {
      const report = await this.pruneHoldingLock(options.keepCommits ?? new Set());
      const removedRootfs = await pruneImageRootfs(this, options.rootfsInUse ?? (async () => false));
      return { ...report, removedRootfs };
    });
  }

  private async pruneHoldingLock(keepCommits: Set<string>): Promise<Omit<PruneReport, 'removedRootfs'>> {
    if (!(await this.repo.exists())) return { removedRefs: [] };
    const used = new Set<string>();
    for (const [name, ref] of await this.imageRefs()) {
      const commit = await this.repo.resolveRef(ref);
      if (commit === undefined) continue;
      let image: StoredImage;
      try {
        image = await this.readImage(name, ref, commit);
      } catch (error) {
        throw new SyscontainerError('ESTORE', `prune: image ${name} cannot be read, so what it uses is unknown`, {
          cause: error,
          hint: `check it with verify, or delete it`,
        });
      }
      used.add(image.configDigest);
      for (const layer of image.manifest.layers) used.add(layer.digest);
    }
    const removedRefs: string[] = [];
    for (const ref of await this.repo.listRefs(refPrefix)) {
      const digest = digestFromBlobRef(ref);
      if (digest === undefined || used.has(digest)) continue;
      const commit = await this.repo.resolveRef(ref);
      if (commit !== undefined && keepCommits.has(commit)) continue;
      await this.repo.deleteRef(ref);
      removedRefs.push(ref);
    }
    await this.repo.prune();
    return { removedRefs };
  }

  /**
   * Re-checks a stored image: manifest digest, config content digest, every layer ref and its
   * metadata against manifest and config, and `ostree fsck` of the repository. Never throws
   * for a fault it finds: they are listed in the report.
   */
  async verifyImage(name: string): Promise<VerifyReport> {
    const problems: string[] = [];
    const report = (): VerifyReport => ({ name, ok: problems.length === 0, problems });
    const ref = imageRef(name);
    const commit = (await this.repo.exists()) ? await this.repo.resolveRef(ref) : undefined;
    if (commit === undefined) {
      problems.push(`image ${name} is not stored`);
      return report();
    }
    const manifestMeta = await this.repo.metadataString(commit, imageMetadataKeys.manifest);
    const manifestFile = await this.repo.readFile(commit, '/manifest.json', limits.manifestBytes).catch(() => undefined);
    const manifestBytes = manifestMeta !== undefined ? Buffer.from(manifestMeta, 'utf8') : manifestFile;
    if (manifestBytes === undefined) {
      problems.push('manifest: neither docker.manifest metadata nor /manifest.json');
      return report();
    }
    if (manifestMeta !== undefined && manifestFile !== undefined && !manifestFile.equals(manifestBytes)) {
      problems.push('manifest: /manifest.json differs from docker.manifest metadata');
    }
    const recorded = await this.repo.metadataString(commit, imageMetadataKeys.digest);
    const actual = sha256Digest(manifestBytes);
    if (recorded !== undefined && recorded !== actual) problems.push(`manifest: sha256 is ${actual}, docker.digest says ${recorded}`);
    let manifest: ImageManifest;
    try {
      manifest = parseJson(manifestSchema, manifestBytes, 'manifest');
    } catch (error) {
      problems.push((error as Error).message);
      return report();
    }
    let config: ImageConfig | undefined;
    const configCommit = await this.repo.resolveRef(blobRef(manifest.config.digest));
    if (configCommit === undefined) {
      problems.push(`config ${shortDigest(manifest.config.digest)}: ref missing`);
    } else {
      try {
        const bytes = await this.repo.readFile(configCommit, '/content', limits.configBytes);
        const configActual = sha256Digest(bytes);
        if (configActual !== manifest.config.digest) problems.push(`config ${shortDigest(manifest.config.digest)}: content sha256 is ${configActual}`);
        config = parseJson(imageConfigSchema, bytes, `config ${shortDigest(manifest.config.digest)}`);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    for (const [index, descriptor] of manifest.layers.entries()) {
      const what = `layer ${shortDigest(descriptor.digest)}`;
      const layerCommit = await this.repo.resolveRef(blobRef(descriptor.digest));
      if (layerCommit === undefined) {
        problems.push(`${what}: ref missing`);
        continue;
      }
      const metadata = await this.repo.commitMetadata(layerCommit);
      if (metadata[layerMetadataKeys.size] !== String(descriptor.size)) {
        problems.push(`${what}: docker.size is ${metadata[layerMetadataKeys.size] ?? 'missing'}, manifest says ${descriptor.size}`);
      }
      if (!/^\d+$/.test(metadata[layerMetadataKeys.uncompressedSize] ?? '')) problems.push(`${what}: docker.uncompressed_size missing or malformed`);
      const diffId = config?.rootfs.diff_ids[index];
      if (config && metadata[layerMetadataKeys.uncompressedDigest] !== diffId) {
        problems.push(`${what}: docker.uncompressed_digest is ${metadata[layerMetadataKeys.uncompressedDigest] ?? 'missing'}, config says ${diffId ?? 'nothing'}`);
      }
    }
    try {
      await this.repo.fsck();
    } catch (error) {
      problems.push(`fsck: ${(error as Error).message}`);
    }
    return report();
  }
}
