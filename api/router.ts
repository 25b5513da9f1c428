// Method + path → route. Every route answers with and without the /vMAJOR.MINOR prefix the
// docker clients add once they have negotiated a version. Patterns use {param} for one path
// segment and {param*} for one or more (image names carry slashes: /images/a/b:tag/json).
export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
  /** The version of the /vN.NN/ prefix, when there was one. */
  version: string | undefined;
}

interface CompiledRoute<H> {
  method: string;
  regex: RegExp;
  names: string[];
  handler: H;
}

const versionPrefix = /^\/v(\d{1,2}\.\d{1,3})(?=\/)/;

export class Router<H> {
  private readonly routes: CompiledRoute<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((segment) => {
        const param = /^\{([a-zA-Z]+)(\*?)\}$/.exec(segment);
        if (param === null) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(param[1] as string);
        return param[2] === '*' ? '(.+)' : '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, regex: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /**
   * The route for `method` and `path` (without the query), or why there is none: 'not-found'
   * (no such path), 'bad-path' (a parameter that does not decode), or the methods the path has.
   */
  match(method: string, path: string): RouteMatch<H> | { error: 'not-found' | 'bad-path' } | { error: 'method'; allowed: string[] } {
    const prefix = versionPrefix.exec(path);
    const version = prefix?.[1];
    const bare = prefix === null ? path : path.slice(prefix[0].length);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.regex.exec(bare);
      if (found === null) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [index, name] of route.names.entries()) {
        try {
          params[name] = decodeURIComponent(found[index + 1] as string);
        } catch {
          return { error: 'bad-path' };
        }
      }
      return { handler: route.handler, params, version };
    }
    return allowed.length > 0 ? { error: 'method', allowed } : { error: 'not-found' };
  }
}
