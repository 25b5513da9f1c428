// A module-level value built when it is first used rather than when its module loads: what the
// zod schemas are declared with. Every command loads every module of the CLI (the application
// layer's entry re-exports them all), and a schema costs its construction at load (zod binds
// each schema's methods to it): in a profile of `status`, building every schema at load took
// ~38 ms of the modules' ~68 ms; `status` parses one record and needs only that record's schemas.
// The value stands behind a Proxy that builds it on the first property read (or `in`, keys,
// prototype) and forwards everything to it from then on; a schema nested in another one is
// built when the outer one is.

/** `build()`'s value, built on first use. `T` must be an object (a schema, a table of schemas). */
export function builtOnFirstUse<T extends object>(build: () => T): T {
  let value: T | undefined;
  const built = (): T => (value ??= build());
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(built(), key),
    set: (_, key, newValue) => Reflect.set(built(), key, newValue),
    has: (_, key) => Reflect.has(built(), key),
    ownKeys: () => Reflect.ownKeys(built()),
    // The proxy's own target is an empty object: a descriptor it reports must be configurable.
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(built(), key);
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(built(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(built(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(built()),
  });
}
