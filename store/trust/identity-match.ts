// signedIdentity: whether the identity a signature claims (its docker-reference) is one the
// policy accepts for the image being pulled. Same rules as containers/image: references are
// compared in their fully expanded form (docker.io/library/busybox:latest), a name without a
// tag or digest never matches an exact rule, and remapIdentity rewrites the image's prefix
// (a mirror's name) to the name its publisher signed before comparing.
import { dockerHub, formatReference, formatRepository, parseReference, type ImageReference } from '../oci/reference.js';
import type { IdentityRule } from './policy.js';

/** A reference as containers/image's ParseNormalizedNamed reads it: short names go to docker.io. */
export function normalizedReference(text: string): ImageReference | undefined {
  let ref: ImageReference;
  try {
    ref = parseReference(text);
  } catch {
    return undefined;
  }
  if (ref.registry === undefined) {
    ref = { ...ref, registry: dockerHub, repository: ref.repository.includes('/') ? ref.repository : `library/${ref.repository}` };
  }
  return ref;
}

const isNameOnly = (ref: ImageReference): boolean => ref.tag === undefined && ref.digest === undefined;

/** The image identity carries a tag: exact match; a digest: same repository. */
function repoDigestOrExact(image: ImageReference, signed: ImageReference): boolean {
  if (isNameOnly(signed)) return false;
  if (image.tag !== undefined) return formatReference(signed) === formatReference(image);
  if (image.digest !== undefined) return formatRepository(signed) === formatRepository(image);
  return false;
}

/** `name` is `prefix` or lies under it (component boundary). */
function underPrefix(name: string, prefix: string): boolean {
  return name === prefix || (name.startsWith(prefix) && name[prefix.length] === '/');
}

/**
 * Whether `claimed` (the signature's docker-reference) is accepted by `rule` for an image whose
 * identity is `image` (undefined for images with no Docker identity, such as OCI layouts:
 * only exactReference and exactRepository can accept those).
 */
export function identityMatches(rule: IdentityRule, image: ImageReference | undefined, claimed: string): boolean {
  const signed = normalizedReference(claimed);
  if (signed === undefined) return false;
  switch (rule.type) {
    case 'matchExact':
      return image !== undefined && !isNameOnly(image) && !isNameOnly(signed) && formatReference(signed) === formatReference(image);
    case 'matchRepoDigestOrExact':
      return image !== undefined && repoDigestOrExact(image, signed);
    case 'matchRepository':
      return image !== undefined && formatRepository(signed) === formatRepository(image);
    case 'exactReference': {
      const wanted = normalizedReference(rule.dockerReference);
      return wanted !== undefined && !isNameOnly(wanted) && !isNameOnly(signed) && formatReference(signed) === formatReference(wanted);
    }
    case 'exactRepository': {
      const wanted = normalizedReference(rule.dockerRepository);
      return wanted !== undefined && formatRepository(signed) === formatRepository(wanted);
    }
    case 'remapIdentity': {
      if (image === undefined) return false;
      let intended = image;
      if (underPrefix(formatRepository(image), rule.prefix)) {
        const remapped = normalizedReference(formatReference(image).replace(rule.prefix, rule.signedPrefix));
        if (remapped === undefined) return false;
        intended = remapped;
      }
      return repoDigestOrExact(intended, signed);
    }
  }
}

/** How a rule reads in a message: `matchRepoDigestOrExact`, `exactRepository docker.io/foo/bar`. */
export function describeIdentityRule(rule: IdentityRule): string {
  switch (rule.type) {
    case 'exactReference':
      return `exactReference ${rule.dockerReference}`;
    case 'exactRepository':
      return `exactRepository ${rule.dockerRepository}`;
    case 'remapIdentity':
      return `remapIdentity ${rule.prefix} → ${rule.signedPrefix}`;
    default:
      return rule.type;
  }
}
