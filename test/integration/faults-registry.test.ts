// Registry faults on loopback: a misbehaving proxy (test/helpers/fault-proxy.ts) in front of
// the real docker-registry. `pull` through the real CLI retries what is worth retrying, times
// out what stalls (SYSCONTAINER_STALL_TIMEOUT_MS keeps that fast here), refuses what is wrong
// or endless within bounded memory, and never stores wrong content: after every scenario the
// store is fsck-clean and holds either the whole, verified image or no image ref. What the
// client did about each fault (retried, resumed with Range, waited out Retry-After, gave up
// after N tries) is read from the proxy's request log, not inferred from wall time: times
// belong in `npm run bench`; here only a bound that catches a hang (the pull is killed after
// 150 s, about ten times what the slowest scenario takes in a loaded full-suite run).
import type { ExecutionContext } from 'ava';
import type { BuiltImage } from '../../images/build/image.js';
import { tempDir } from '../helpers/cli.js';
import { FaultTally, isolatedEnv, measuredCli, pushImage, serviceImage, storeProblems, faultKitNeeds } from '../helpers/fault-kit.js';
import { startFaultProxy, type FaultAction, type FaultProxy, type ProxyRequest } from '../helpers/fault-proxy.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { testNeeding } from '../helpers/host-requirements.js';

const test = testNeeding(faultKitNeeds);

let registry: RegistryServer;
let image: BuiltImage;
const repository = 'faults/registry';
const tally = new FaultTally();

test.before(async () => {
  registry = await startRegistry();
  image = await serviceImage('registry-faults', { padding: 3 << 20 });
  await pushImage(registry.host, repository, 'v1', image);
});

test.after.always(async () => {
  await registry?.stop();
});

const blobPath = (digest: string) => `/v2/${repository}/blobs/${digest}`;
const manifestPath = `/v2/${repository}/manifests/v1`;
const isBlob = (req: ProxyRequest) => req.method === 'GET' && req.path.startsWith(`/v2/${repository}/blobs/`);
const isLayer = (req: ProxyRequest) => req.method === 'GET' && image.layers.some((l) => req.path === blobPath(l.descriptor.digest));
const bigLayer = () => blobPath(image.layers[1]!.descriptor.digest);

interface Scenario {
  decide: (req: ProxyRequest) => FaultAction;
  /** 'ok': the pull completes; a RegExp: it fails with a message matching it. */
  expect: 'ok' | RegExp;
  /** What the client must have done about the faults, from the proxy's request log. */
  requests?: (t: ExecutionContext, proxy: FaultProxy, stderr: string) => void;
  /** Upper bound on the CLI's peak RSS. */
  maxRssMiB?: number;
}

/** The pull is killed after this long: only a hang reaches it. */
const hangMs = 150_000;

/** Each faulted GET path: asked again after its faults, until a request of it passed. */
function retriedUntilPassed(t: ExecutionContext, proxy: FaultProxy, faultsEach?: number): void {
  const faulted = [...new Set(proxy.log.filter((r) => r.method === 'GET' && r.action !== 'pass').map((r) => r.path))];
  t.true(faulted.length > 0);
  for (const path of faulted) {
    const asked = proxy.requestsOf('GET', path);
    const faults = asked.filter((r) => r.action !== 'pass').length;
    t.is(asked.at(-1)?.action, 'pass', `${path}: asked again until it passed (${asked.map((r) => r.action).join(', ')})`);
    if (faultsEach !== undefined) t.is(faults, faultsEach, `${path}: ${faultsEach} fault(s), then a pass`);
  }
}

/** How many times the client asked for `path` with GET. */
const gets = (proxy: FaultProxy, path: string) => proxy.requestsOf('GET', path).length;

const pass: FaultAction = { kind: 'pass' };
const scenarios: Record<string, Scenario> = {
  'connection reset mid-blob (twice per blob)': {
    decide: (req) => (isBlob(req) && req.count <= 2 ? { kind: 'reset', fraction: 0.5 } : pass),
    expect: 'ok',
    requests: (t, proxy) => retriedUntilPassed(t, proxy, 2),
  },
  'stalled blob body (once per layer): timed out and resumed': {
    decide: (req) => (isLayer(req) && req.count === 1 ? { kind: 'stall', fraction: 0.3 } : pass),
    expect: 'ok',
    requests: (t, proxy) => {
      retriedUntilPassed(t, proxy, 1);
      // 30 % of the big layer had arrived before the stall: the second request asks for the rest.
      const [, again] = proxy.requestsOf('GET', bigLayer());
      t.regex(again?.range ?? '', /^bytes=[1-9]\d*-$/, 'the big layer is resumed from where it stalled, not fetched again');
    },
  },
  'stalled manifest body (once): timed out and retried': {
    decide: (req) => (req.method === 'GET' && req.path === manifestPath && req.count === 1 ? { kind: 'stall', fraction: 0.5 } : pass),
    expect: 'ok',
    requests: (t, proxy) => retriedUntilPassed(t, proxy, 1),
  },
  'slow drip of the big layer: not a stall, completes': {
    decide: (req) => (req.method === 'GET' && req.path === bigLayer() ? { kind: 'drip', chunk: 64 * 1024, intervalMs: 15 } : pass),
    expect: 'ok',
  },
  '503 bursts (3 per request)': {
    decide: (req) => (req.path !== '/v2/' && req.count <= 3 ? { kind: 'status', status: 503 } : pass),
    expect: 'ok',
    requests: (t, proxy) => retriedUntilPassed(t, proxy, 3),
  },
  '429 with Retry-After: 1 (once per request)': {
    decide: (req) => (req.path !== '/v2/' && req.count === 1 ? { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' } : pass),
    expect: 'ok',
    requests: (t, proxy) => {
      retriedUntilPassed(t, proxy, 1);
      // SYSCONTAINER_RETRY_BASE_MS=20 makes the backoff about 20 ms and cuts Retry-After to
      // 16 × 20 = 320 ms: a wait of that length is the Retry-After (cut), not the backoff.
      for (const path of new Set(proxy.log.filter((r) => r.action === 'status').map((r) => r.path))) {
        const [first, second] = proxy.requestsOf('GET', path);
        t.true(second!.at - first!.at >= 300, `${path}: asked again ${second!.at - first!.at} ms after the 429`);
      }
    },
  },
  // A Content-Length that disagrees with the descriptor means another blob: refused, not retried.
  'Content-Length longer than the body': {
    decide: (req) => (req.method === 'GET' && req.path === bigLayer() ? { kind: 'wrong-length', extra: 1000 } : pass),
    expect: /size mismatch: expected \d+, got \d+ \(Content-Length\)/,
    requests: (t, proxy) => t.is(gets(proxy, bigLayer()), 1, 'refused at the headers, not retried'),
  },
  'a different blob than the one asked for': {
    decide: (req) => (req.method === 'GET' && req.path === bigLayer() ? { kind: 'substitute', path: blobPath(image.layers[0]!.descriptor.digest) } : pass),
    expect: /digest|sha256|size|expected/i,
  },
  'the config swapped for another blob': {
    decide: (req) => (req.method === 'GET' && req.path === blobPath(image.configDigest) ? { kind: 'substitute', path: bigLayer() } : pass),
    expect: /digest|sha256|size|expected|exceeds/i,
  },
  'a redirect loop': {
    decide: (req) => (req.method === 'GET' && req.path === bigLayer() ? { kind: 'redirect-loop' } : pass),
    expect: /redirect/i,
    requests: (t, proxy, stderr) => {
      // "too many redirects (more than N)": N hops followed after the first request, then given up.
      const hops = Number(/more than (\d+)/.exec(stderr)?.[1]);
      t.is(gets(proxy, bigLayer()), hops + 1, 'the loop is followed as far as the bound, no further');
    },
  },
  'an endless manifest body': {
    decide: (req) => (req.path === manifestPath && req.method === 'GET' ? { kind: 'endless', contentType: image.manifestMediaType } : pass),
    expect: /exceeds|too large|limit|bytes/i,
    maxRssMiB: 200,
  },
  'an endless blob body': {
    decide: (req) => (req.method === 'GET' && req.path === bigLayer() ? { kind: 'endless' } : pass),
    expect: /size|exceeds|more than|expected|bytes|corrupt/i,
    maxRssMiB: 200,
  },
  '500 forever on one blob': {
    decide: (req) => (req.method === 'GET' && req.path === bigLayer() ? { kind: 'status', status: 500 } : pass),
    expect: /keeps failing: 500 after \d+ tries/,
    requests: (t, proxy, stderr) => {
      const tries = Number(/after (\d+) tries/.exec(stderr)?.[1]);
      t.is(gets(proxy, bigLayer()), tries, `asked ${tries} times, as the message says, then given up`);
    },
  },
};

for (const [title, scenario] of Object.entries(scenarios)) {
  test(title, async (t) => {
    const proxy = await startFaultProxy(registry.host, scenario.decide);
    t.teardown(() => proxy.stop());
    const env = isolatedEnv(await tempDir(t), {
      SYSCONTAINER_STALL_TIMEOUT_MS: '700',
      SYSCONTAINER_REQUEST_TIMEOUT_MS: '5000',
      SYSCONTAINER_RETRY_BASE_MS: '20',
    });
    const name = `${proxy.host}/${repository}:v1`;
    const run = await measuredCli(['pull', name], env, hangMs);
    t.log(`${proxy.faults} fault(s) injected in ${proxy.requests} request(s); ${run.ms} ms; peak RSS ${Math.round(run.peakRssKiB / 1024)} MiB`);
    tally.injected += proxy.faults;
    t.true(proxy.faults > 0, 'the fault was injected');
    t.false(run.timedOut, `the pull ended by itself within ${hangMs} ms`);
    const listed = JSON.parse((await measuredCli(['images', 'list', '--all', '--json'], env)).stdout || '[]') as { name: string; digest?: string }[];
    if (scenario.expect === 'ok') {
      t.is(run.exitCode, 0, run.stderr);
      t.deepEqual(listed.map((i) => [i.name, i.digest]), [[name, image.manifestDigest]]);
    } else {
      t.not(run.exitCode, 0);
      t.regex(run.stderr, scenario.expect);
      t.regex(run.stderr, new RegExp(`image ${name.replace(/[.]/g, '\\.')}`), 'names the image');
      t.is(run.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, `one-line error: ${run.stderr}`);
      t.deepEqual(listed, [], 'no image ref');
    }
    const problems = await storeProblems(env);
    t.deepEqual(problems, [], 'store fsck-clean, every image complete and verified');
    if (problems.length > 0) tally.dataLost++;
    scenario.requests?.(t, proxy, run.stderr);
    if (scenario.maxRssMiB !== undefined) t.true(run.peakRssKiB / 1024 < scenario.maxRssMiB, `peak RSS ${run.peakRssKiB} KiB`);
    tally.survived += proxy.faults;
  });
}

test.after('figures', (t) => {
  tally.report(t, 'registry faults');
});
