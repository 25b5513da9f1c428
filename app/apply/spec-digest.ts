// The spec digest apply records on every container it makes and compares on the next run: over
// the normalised declaration (not the file's text, so formatting and comments change nothing),
// the image's resolved manifest digest (a moved tag is a change, once pulled) and the content of
// every file the container reads from the host (a changed config file is a change).
import type { DeclaredContainer } from './declared-container.js';
import { sha256Digest } from '../../common/digest.js';

/** JSON with object keys sorted at every level: the same value always gives the same text. Pure. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What of a declaration makes the container: everything but where it was written. */
export function declaredContent(container: DeclaredContainer): Omit<DeclaredContainer, 'origin'> {
  const { origin: _origin, ...content } = container;
  return content;
}

/** sha256:… over the declaration, the manifest digest and the digests of the host files it reads. Pure. */
export function specDigest(container: DeclaredContainer, manifestDigest: string, fileDigests: ReadonlyMap<string, string>): string {
  const files = [...new Set(container.hostPaths.map((h) => h.path))]
    .sort()
    .flatMap((p) => {
      const digest = fileDigests.get(p);
      return digest === undefined ? [] : [[p, digest]];
    });
  const text = canonicalJson({ version: 1, container: declaredContent(container), manifestDigest, files });
  return sha256Digest(text);
}
