// `WWW-Authenticate` challenges (RFC 7235): `Bearer realm="https://auth/token",service="reg",
// scope="repository:foo:pull"` or `Basic realm="x"`. Several challenges may share one header.

export interface AuthChallenge {
  /** Lower-case scheme: "bearer", "basic", … */
  scheme: string;
  /** Parameter names are lower-cased; values are unquoted. */
  params: Record<string, string>;
}

const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/** Parses every challenge in the header; malformed tails are ignored rather than thrown. */
export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (): string | undefined => {
    token.lastIndex = i;
    const m = token.exec(header);
    if (m === null) return undefined;
    i += m[0].length;
    return m[0];
  };
  // Unquoted values should be RFC tokens, but realms like https://x/token appear bare in the wild.
  const readBare = (): string => {
    const m = /^[^\s,"]*/.exec(header.slice(i));
    i += m![0].length;
    return m![0];
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let out = '';
    while (i < header.length && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < header.length) i++;
      out += header[i];
      i++;
    }
    i++; // closing quote
    return out;
  };
  while (i < header.length) {
    skipSpace();
    while (header[i] === ',') {
      i++;
      skipSpace();
    }
    const scheme = readToken();
    if (scheme === undefined) break;
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    // auth-params: name=value pairs separated by commas, until the next scheme token.
    for (;;) {
      skipSpace();
      const start = i;
      if (Object.keys(challenge.params).length === 0) {
        // token68 (`Negotiate abc==`): a lone value, possibly ending in '=' padding.
        const token68 = /^[A-Za-z0-9._~+/-]+=*(?=\s*(,|$))/.exec(header.slice(i));
        if (token68) {
          i += token68[0].length;
          break;
        }
      }
      const name = readToken();
      if (name === undefined) break;
      skipSpace();
      if (header[i] !== '=') {
        // Not a parameter: this is the next challenge's scheme (or token68). Rewind.
        i = start;
        break;
      }
      i++;
      skipSpace();
      const value = header[i] === '"' ? readQuoted() : readBare();
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (header[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    // A token68 (`Negotiate abc==`) belongs to this challenge; a following `Scheme name=…`
    // is left for the next round of the loop.
    skipSpace();
    if (i < header.length && header[i] !== ',' && Object.keys(challenge.params).length === 0) {
      const token68 = /^[A-Za-z0-9._~+/-]+=*/.exec(header.slice(i));
      if (token68) i += token68[0].length;
    }
  }
  return challenges;
}

/** The challenge we act on: Bearer over Basic, anything else is unsupported. */
export function preferredChallenge(header: string | undefined): AuthChallenge | undefined {
  if (header === undefined) return undefined;
  const all = parseChallenges(header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic') ?? all[0];
}
