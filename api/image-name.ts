// Image names from paths and bodies, checked before they reach the store: REGISTRY[:PORT]/REPO[:TAG][@DIGEST]
// or an image id. Anything else (`../` segments, spaces, control characters) is not an image
// this service could have, so it is a 404, as for a name it does not have.
const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export function isPlausibleImageName(name: string): boolean {
  if (name.length === 0 || name.length > 512) return false;
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(name)) return true;
  const [withoutDigest = '', digest] = name.split('@', 2) as [string, string | undefined];
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) return false;
  const parts = withoutDigest.split('/');
  const last = parts.pop() ?? '';
  const [repo = '', tag] = last.split(':', 2) as [string, string | undefined];
  if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return false;
  if (!component.test(repo)) return false;
  return parts.every((part, index) => (index === 0 && /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(part) && !part.includes('..')) || component.test(part));
}
