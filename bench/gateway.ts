/**
 * bench/gateway: what the gateway costs, against a direct connection and against haproxy.
 *
 * Two replicas of (a) a trivial HTTP backend (bench/lib/bare-http-server: reads the body, answers
 * a canned OIP reply) and (b) mnist (`flotilla serve`). For each, in one run: closed-loop req/s and
 * p50/p99 straight to the replicas (the client spreads its requests), through `flotilla gateway`
 * (least_request and round_robin) and through haproxy (leastconn and roundrobin) on the same
 * replicas. haproxy comes from Debian: installed with apt-get if missing; its config goes to a
 * temporary folder. Writes bench/results/gateway.{json,md}.
 *
 *   npm run build && node dist/bench/gateway.js [--duration 5] [--concurrency 32] [--only mnist|trivial]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { heldOutDigits } from '../examples/training/mnist-data.js';
import { type ClosedLoopResult, runClosedLoop } from '../src/bench/index.js';
import { encodeInferRequest } from '../src/protocol/oip-rest/index.js';
import { startGateway, writeServiceFile } from '../test/fixtures/services/gateway-helpers.js';
import { startServe } from '../test/helpers/flotilla-process.js';
import { EXAMPLE_MODELS, ROOT } from '../test/helpers/paths.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const durationS = numberArg('duration', 5);
const concurrency = numberArg('concurrency', 32);
const PATH = '/v2/models/mnist/infer';
/** `--only mnist` or `--only trivial` runs one backend (quicker checks). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

interface Row {
  readonly backend: string;
  readonly path: string;
  readonly result: ClosedLoopResult;
}

/** One digit as Triton's binary extension, encoded once: the loop measures the proxies, not us. */
function digitRequest(): { body: Uint8Array; headers: Record<string, string> } {
  const { body, headerLength } = encodeInferRequest(
    {
      model: 'mnist',
      inputs: [
        {
          name: 'image',
          datatype: 'FP32',
          shape: [1, 784],
          data: Float32Array.from(heldOutDigits()[0]!.pixels),
        },
      ],
    },
    { binaryInputs: true, binaryOutputs: true },
  );
  return {
    body,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength),
    },
  };
}

/** Closed loop over one or more origins; users take them in turn (the direct baseline spreads). */
async function measure(origins: readonly string[]): Promise<ClosedLoopResult> {
  const { body, headers } = digitRequest();
  const pools = origins.map((o) => new Pool(o, { connections: Math.ceil(concurrency / origins.length) + 1 }));
  let next = 0;
  const result = await runClosedLoop({ concurrency, durationMs: durationS * 1000 }, async () => {
    const pool = pools[next++ % pools.length]!;
    const res = await pool.request({ path: PATH, method: 'POST', body, headers });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  });
  await Promise.all(pools.map((p) => p.close()));
  return result;
}

/** Starts a process and resolves with the first `port=N` it prints. */
async function bareServer(reply: Buffer): Promise<{ address: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'bench', 'lib', 'bare-http-server.js'), reply.toString('base64'), '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { address: `127.0.0.1:${/port=(\d+)/.exec(line.toString())?.[1]}`, proc };
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** haproxy from Debian, installed when missing (the bench's only system dependency). */
function ensureHaproxy(): string {
  const find = (): string | undefined => {
    for (const p of ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy']) {
      try {
        execFileSync(p, ['-v'], { stdio: 'ignore' });
        return p;
      } catch {
        // not here
      }
    }
    return undefined;
  };
  const found = find();
  if (found) return found;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (args: string[]): void => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    execFileSync(cmd!, rest, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  try {
    apt(['install', '-y', '-qq', 'haproxy']);
  } catch {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'haproxy']);
  }
  const installed = find();
  if (!installed) throw new Error('haproxy is not installed and apt-get could not install it');
  return installed;
}

/** haproxy with a leastconn and a roundrobin frontend over the same replicas. */
async function startHaproxy(bin: string, replicas: readonly string[]) {
  const [lc, rr] = [await freePort(), await freePort()];
  const servers = replicas.map((r, i) => `  server s${i} ${r}`).join('\n');
  const cfg = `global
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend leastconn
  bind 127.0.0.1:${lc}
  default_backend leastconn
frontend roundrobin
  bind 127.0.0.1:${rr}
  default_backend roundrobin
backend leastconn
  balance leastconn
${servers}
backend roundrobin
  balance roundrobin
${servers}
`;
  const file = join(mkdtempSync(join(tmpdir(), 'flotilla-haproxy-')), 'haproxy.cfg');
  writeFileSync(file, cfg);
  const proc = spawn(bin, ['-db', '-f', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise((r) => setTimeout(r, 500));
  if (proc.exitCode !== null) throw new Error(`haproxy exited with ${proc.exitCode}; config in ${file}`);
  return {
    leastconn: `http://127.0.0.1:${lc}`,
    roundrobin: `http://127.0.0.1:${rr}`,
    async stop() {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    },
  };
}

/** Every path over the same two replicas. */
async function compare(backend: string, replicas: readonly string[], haproxyBin: string): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push({
    backend,
    path: 'direct (client spreads)',
    result: await measure(replicas.map((r) => `http://${r}`)),
  });
  for (const balancer of ['least_request', 'round_robin']) {
    const config = writeServiceFile(`
services:
  mnist:
    balancer: ${balancer}
    variants: [{ tag: v1, endpoints: "list://${replicas.join(', ')}" }]
`);
    const gw = await startGateway(config);
    try {
      rows.push({ backend, path: `flotilla gateway (${balancer})`, result: await measure([gw.url]) });
    } finally {
      await gw.stop();
    }
  }
  const hp = await startHaproxy(haproxyBin, replicas);
  try {
    rows.push({ backend, path: 'haproxy (leastconn)', result: await measure([hp.leastconn]) });
    rows.push({ backend, path: 'haproxy (roundrobin)', result: await measure([hp.roundrobin]) });
  } finally {
    await hp.stop();
  }
  return rows;
}

const fmt = (n: number, digits = 0): string => n.toFixed(digits);

async function main(): Promise<void> {
  const haproxyBin = ensureHaproxy();
  const rows: Row[] = [];
  // (b) mnist first: its answer is the canned reply of the trivial backend.
  const servers = await Promise.all(
    [0, 1].map(() =>
      startServe(['--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--poll-interval', '0']),
    ),
  );
  let reply: Buffer;
  try {
    const { body, headers } = digitRequest();
    const sample = await fetch(`${servers[0]!.url}${PATH}`, { method: 'POST', body, headers });
    reply = Buffer.from(await sample.arrayBuffer());
    if (only !== 'trivial')
      rows.push(
        ...(await compare(
          'mnist (flotilla serve)',
          servers.map((s) => new URL(s.url).host),
          haproxyBin,
        )),
      );
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const bare = only === 'mnist' ? [] : await Promise.all([bareServer(reply), bareServer(reply)]);
  try {
    if (bare.length > 0)
      rows.push(
        ...(await compare(
          'trivial (bare node:http)',
          bare.map((b) => b.address),
          haproxyBin,
        )),
      );
  } finally {
    for (const b of bare) b.proc.kill('SIGTERM');
  }
  const base = (backend: string, path: string): number =>
    rows.find((r) => r.backend === backend && r.path === path)?.result.throughput ?? Number.NaN;
  const table = rows.map((r) => ({
    backend: r.backend,
    path: r.path,
    requestsPerS: Math.round(r.result.throughput),
    ratioToHaproxyLeastconn: Number(
      (r.result.throughput / base(r.backend, 'haproxy (leastconn)')).toFixed(3),
    ),
    ratioToDirect: Number((r.result.throughput / base(r.backend, 'direct (client spreads)')).toFixed(3)),
    p50Ms: Number(r.result.latency.p50Ms.toFixed(3)),
    p99Ms: Number(r.result.latency.p99Ms.toFixed(3)),
    requests: r.result.requests,
    errors: r.result.errors,
  }));
  writeBenchResults({
    name: 'gateway',
    description: [
      `Two replicas per backend, one binary-encoded digit per request, closed loop with ${concurrency} users, ${durationS} s per row.`,
      'Ratios: req/s divided by haproxy (leastconn) and by the direct connection on the same replicas, in the same run.',
      'The load generator, the proxy and the replicas share the machine’s cores.',
    ],
    columns: [
      { heading: 'backend', value: (r) => r.backend },
      { heading: 'path', value: (r) => r.path },
      { heading: 'req/s', value: (r) => r.requestsPerS, numeric: true },
      {
        heading: 'ratio to haproxy leastconn',
        value: (r) => fmt(r.ratioToHaproxyLeastconn, 3),
        numeric: true,
      },
      { heading: 'ratio to direct', value: (r) => fmt(r.ratioToDirect, 3), numeric: true },
      { heading: 'p50 ms', value: (r) => fmt(r.p50Ms, 3), numeric: true },
      { heading: 'p99 ms', value: (r) => fmt(r.p99Ms, 3), numeric: true },
      { heading: 'errors', value: (r) => r.errors, numeric: true },
    ],
    rows: table,
    meta: {
      durationS,
      concurrency,
      haproxy: execFileSync(haproxyBin, ['-v'], { encoding: 'utf8' }).split('\n')[0],
    },
  });
}

await main();
