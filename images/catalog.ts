// The images this project ships as definitions, by name. Each definition reads host files
// (Debian packages) when called, so build them on the host that has those packages.
import { etcdDefinition } from './etcd/definition.js';
import { helloDefinition } from './hello/definition.js';
import type { ImageDefinition } from './build/image.js';

export const imageDefinitions: Readonly<Record<'etcd' | 'hello', () => Promise<ImageDefinition>>> = {
  etcd: etcdDefinition,
  hello: helloDefinition,
};

export type ShippedImageName = keyof typeof imageDefinitions;
