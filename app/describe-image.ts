// describe-image: what `images info` shows: labels, platform, command, layers, and the
// variables the image's /exports templates use (set by the installer, with defaults, required).
import { describeTemplateVariables, exportTemplateFiles, parseExportsManifest, type TemplateVariable } from '../runtime/index.js';
import { readImageFiles, type StoredImage, type TrustRecord } from '../store/index.js';
import type { AppContext } from './context.js';
import { findImage, platformOf } from './images.js';

export interface ImageDetails {
  name: string;
  id: string;
  digest: string;
  created: string | null;
  platform: string;
  labels: Record<string, string>;
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  layers: { digest: string; size: number; uncompressedSize: number }[];
  /** Template files under /exports (file names); empty: syscontainer renders its own. */
  templates: string[];
  variables: TemplateVariable[];
  /** The signatures verified at pull; null when none were. */
  trust: TrustRecord | null;
}

async function exportVariables(app: AppContext, image: StoredImage): Promise<{ templates: string[]; variables: TemplateVariable[] }> {
  const files = await readImageFiles(app.store, image, '/exports', [...exportTemplateFiles, 'manifest.json']);
  const templates = new Map<string, string>();
  for (const name of exportTemplateFiles) {
    const bytes = files.get(name);
    if (bytes) templates.set(name, bytes.toString('utf8'));
  }
  const manifest = files.get('manifest.json');
  const defaultValues = manifest ? (parseExportsManifest(manifest.toString('utf8'), image.name).defaultValues ?? {}) : {};
  return { templates: [...templates.keys()], variables: describeTemplateVariables(templates, defaultValues) };
}

export async function describeImage(app: AppContext, input: { image: string }): Promise<ImageDetails> {
  const image = await findImage(app, input.image);
  const { templates, variables } = await exportVariables(app, image);
  const config = image.config.config;
  return {
    name: image.name,
    id: image.configDigest,
    digest: image.manifestDigest,
    created: image.created ?? null,
    platform: platformOf(image),
    labels: config?.Labels ?? {},
    entrypoint: config?.Entrypoint ?? null,
    cmd: config?.Cmd ?? null,
    env: config?.Env ?? [],
    layers: image.layers.map((layer) => ({ digest: layer.digest, size: layer.size, uncompressedSize: layer.uncompressedSize })),
    templates,
    variables,
    trust: image.trust ?? null,
  };
}
