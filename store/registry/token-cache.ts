// Bearer tokens, kept per registry + user + scope until shortly before they expire, so a pull
// of many layers asks the token server once.

interface Entry {
  token: string;
  expiresAt: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  static key(parts: { registry: string; realm: string; service?: string; username?: string; scopes: readonly string[] }): string {
    return JSON.stringify([parts.registry, parts.realm, parts.service ?? '', parts.username ?? '', [...parts.scopes].sort()]);
  }

  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  /** Keeps `token` for `lifetimeSeconds`, minus a margin so it is not used in its last seconds. */
  set(key: string, token: string, lifetimeSeconds: number): void {
    const lifetimeMs = Math.max(0, lifetimeSeconds) * 1000;
    const margin = Math.min(5_000, lifetimeMs / 10);
    this.entries.set(key, { token, expiresAt: this.now() + lifetimeMs - margin });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The process-wide cache used when a client is not given its own. */
export const sharedTokenCache = new TokenCache();
