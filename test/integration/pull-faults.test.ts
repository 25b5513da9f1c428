// Bad input from a registry, through the real CLI and a real ostree repo: each fault gives a
// one-line error naming the image and the fault, a non-zero exit, and leaves no ref behind.
import { execa } from 'execa';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildImage, type BuiltImage } from '../../images/build/image.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startFakeServer } from '../helpers/fake-registry.js';
import { needs, testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(needs.store);

type Fault = (image: BuiltImage) => (req: IncomingMessage, res: ServerResponse) => boolean;

async function smallImage(layerMediaType?: string): Promise<BuiltImage> {
  const image = await buildImage({
    config: { Cmd: ['/bin/true'] },
    layers: [
      { entries: [{ type: 'file', path: 'etc/hello', content: 'hello\n'.repeat(2000) }] },
      { entries: [{ type: 'file', path: 'etc/second', content: 'second layer\n' }] },
    ],
  });
  if (layerMediaType === undefined) return image;
  const manifest = { ...image.manifest, layers: image.manifest.layers.map((l) => ({ ...l, mediaType: layerMediaType })) };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { ...image, manifest, manifestBytes };
}

/** Serves `image` at 127.0.0.1:PORT/foo:latest, letting `fault` answer first. */
function handler(image: BuiltImage, fault: Fault) {
  const blobs = new Map<string, Buffer>([[image.configDigest, image.configBytes], ...image.layers.map((l) => [l.descriptor.digest, l.bytes] as [string, Buffer])]);
  const faulty = fault(image);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (faulty(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/v2/') return void res.writeHead(200).end('{}');
    if (path === '/v2/foo/manifests/latest') {
      res.writeHead(200, { 'Content-Type': image.manifestMediaType, 'Content-Length': image.manifestBytes.length });
      return void res.end(req.method === 'HEAD' ? undefined : image.manifestBytes);
    }
    const blob = blobs.get(path.replace('/v2/foo/blobs/', ''));
    if (blob) {
      res.writeHead(200, { 'Content-Length': blob.length });
      return void res.end(req.method === 'HEAD' ? undefined : blob);
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}');
  };
}

const firstLayer = (image: BuiltImage, req: IncomingMessage) => req.url === `/v2/foo/blobs/${image.layers[0]!.descriptor.digest}`;

const faults: Record<string, { fault: Fault; says: RegExp; mediaType?: string }> = {
  'wrong blob digest': {
    fault: (image) => (req, res) => {
      if (!firstLayer(image, req)) return false;
      const bytes = Buffer.from(image.layers[0]!.bytes);
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
      res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
      return true;
    },
    says: /digest|sha256/i,
  },
  'wrong size': {
    fault: (image) => (req, res) => {
      if (!firstLayer(image, req)) return false;
      const bytes = Buffer.concat([image.layers[0]!.bytes, Buffer.from('extra bytes')]);
      res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
      return true;
    },
    says: /size|bytes/i,
  },
  'truncated blob': {
    fault: (image) => (req, res) => {
      if (!firstLayer(image, req)) return false;
      const bytes = image.layers[0]!.bytes;
      res.writeHead(200, { 'Content-Length': bytes.length });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
      return true;
    },
    says: /truncat|interrupt|incomplete|closed|ended|size/i,
  },
  'missing manifest': {
    fault: () => (req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      return true;
    },
    says: /not found|unknown|404/i,
  },
  'malformed JSON': {
    fault: () => (req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end('{"schemaVersion": 2, "config": ');
      return true;
    },
    says: /JSON|malformed/i,
  },
  'unsupported media type': {
    fault: () => () => false,
    mediaType: 'application/x-not-a-layer',
    says: /application\/x-not-a-layer/,
  },
  '401 without credentials': {
    fault: () => (req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"', 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return true;
    },
    says: /auth|401|credentials|login/i,
  },
  'registry returning 500 forever': {
    fault: () => (req, res) => {
      if (req.url === '/v2/') return false;
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('boom');
      return true;
    },
    says: /500/,
  },
};

for (const [name, { fault, says, mediaType }] of Object.entries(faults)) {
  test(`pull: ${name} fails with one line naming the image, and leaves no ref`, async (t) => {
    const root = await tempDir(t);
    const image = await smallImage(mediaType);
    const server = await startFakeServer(handler(image, fault));
    t.teardown(() => server.stop());
    const reference = `${server.host}/foo:latest`;

    const result = await runCli(['--root', root, 'pull', reference], { REGISTRY_AUTH_FILE: join(root, 'auth.json') });

    t.not(result.exitCode, 0);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    t.is(lines.length, 1, result.stderr);
    t.true(lines[0]!.includes(`${server.host}/foo`), `names the image: ${lines[0]}`);
    t.regex(lines[0]!, says);
    t.false(result.stderr.includes('    at '), 'no stack trace without --debug');
    const repo = join(root, '.storage', 'ostree');
    const refs = await execa('ostree', ['refs', `--repo=${repo}`], { reject: false });
    const brokenLayer = image.layers[0]!.descriptor.digest.slice('sha256:'.length);
    t.false(refs.stdout.includes('_3Alatest'), `no image ref: ${refs.stdout}`);
    t.false(refs.stdout.includes(brokenLayer), `no ref to the faulty layer: ${refs.stdout}`);
    // The rootfs is checked out while layers come in: a failed pull leaves none, nor its temporary tree.
    t.deepEqual(await readdir(join(root, '.storage', 'rootfs')).catch(() => []), [], 'no rootfs');
  });
}
