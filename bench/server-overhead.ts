/**
 * bench/server-overhead: what serving costs on top of inference.
 *
 * For mnist version 2 at concurrency 1 and 8, in one run: inferences/s of raw onnxruntime-node
 * `session.run` in this process (the baseline), and of `flotilla serve` over HTTP with JSON and
 * with Triton's binary extension. Writes bench/results/server-overhead.{json,md} with ratios
 * against the baseline at the same concurrency.
 *
 *   npm run build && node dist/bench/server-overhead.js [--duration 5]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Pool } from 'undici';
import { heldOutDigits } from '../examples/training/mnist-data.js';
import { type ClosedLoopResult, runClosedLoop } from '../src/bench/index.js';
import { encodeInferRequest } from '../src/protocol/oip-rest/index.js';
import { startServe } from '../test/helpers/flotilla-process.js';
import { EXAMPLE_MODELS, ROOT } from '../test/helpers/paths.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const durationS = numberArg('duration', 5);
const CONCURRENCIES = [1, 8];
const MODEL = join(EXAMPLE_MODELS, 'mnist', '2', 'model.onnx');

interface Row {
  readonly path: string;
  readonly result: ClosedLoopResult;
}

async function raw(concurrency: number): Promise<ClosedLoopResult> {
  const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const pixels = heldOutDigits()[0]!.pixels;
  const result = await runClosedLoop({ concurrency, durationMs: durationS * 1000 }, () =>
    session.run({ image: new ort.Tensor('float32', Float32Array.from(pixels), [1, 784]) }),
  );
  await session.release();
  return result;
}

function digitRequest(binary: boolean): ReturnType<typeof encodeInferRequest> {
  const digit = heldOutDigits()[0]!;
  return encodeInferRequest(
    {
      model: 'mnist',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784], data: Float32Array.from(digit.pixels) }],
    },
    { binaryInputs: binary, binaryOutputs: binary },
  );
}

/** Starts the bare node:http floor server answering `reply` (the model server's binary answer). */
async function startBareServer(
  reply: Buffer,
  headerLength: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'bench', 'lib', 'bare-http-server.js'), reply.toString('base64'), headerLength],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  const port = /port=(\d+)/.exec(line.toString())?.[1];
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    },
  };
}

async function served(url: string, binary: boolean, concurrency: number): Promise<ClosedLoopResult> {
  const { body, headerLength } = digitRequest(binary);
  const headers: Record<string, string> = {
    'content-type': binary ? 'application/octet-stream' : 'application/json',
  };
  if (headerLength !== undefined) headers['inference-header-content-length'] = String(headerLength);
  const pool = new Pool(url, { connections: concurrency });
  // The request is encoded once: the loop measures the server, not this process's encoder.
  const result = await runClosedLoop({ concurrency, durationMs: durationS * 1000 }, async () => {
    const res = await pool.request({
      path: '/v2/models/mnist/versions/2/infer',
      method: 'POST',
      body,
      headers,
    });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  });
  await pool.close();
  return result;
}

const fmt = (n: number, digits = 0): string => n.toFixed(digits);

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const c of CONCURRENCIES)
    rows.push({ path: 'raw onnxruntime-node session.run', result: await raw(c) });
  const server = await startServe([
    '--model-repository',
    EXAMPLE_MODELS,
    '--models',
    'mnist',
    '--poll-interval',
    '0',
  ]);
  let sample: Response;
  try {
    const { body, headerLength } = digitRequest(true);
    sample = await fetch(`${server.url}/v2/models/mnist/versions/2/infer`, {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(headerLength) },
    });
    for (const c of CONCURRENCIES) {
      rows.push({ path: 'flotilla serve, HTTP JSON', result: await served(server.url, false, c) });
      rows.push({ path: 'flotilla serve, HTTP binary', result: await served(server.url, true, c) });
    }
  } finally {
    await server.stop();
  }
  // The floor: the same binary exchange against a server that does nothing but HTTP.
  const bare = await startBareServer(
    Buffer.from(await sample.arrayBuffer()),
    sample.headers.get('inference-header-content-length') ?? '',
  );
  try {
    for (const c of CONCURRENCIES)
      rows.push({
        path: 'bare node:http, no inference (HTTP floor)',
        result: await served(bare.url, true, c),
      });
  } finally {
    await bare.stop();
  }
  const baseline = new Map(
    rows.filter((r) => r.path.startsWith('raw')).map((r) => [r.result.concurrency, r.result.throughput]),
  );
  const floor = new Map(
    rows.filter((r) => r.path.startsWith('bare')).map((r) => [r.result.concurrency, r.result.throughput]),
  );
  const table = rows.map((r) => ({
    path: r.path,
    concurrency: r.result.concurrency,
    inferencesPerS: Math.round(r.result.throughput),
    ratioToRaw: Number((r.result.throughput / baseline.get(r.result.concurrency)!).toFixed(3)),
    ratioToHttpFloor: Number((r.result.throughput / floor.get(r.result.concurrency)!).toFixed(3)),
    p50Ms: Number(r.result.latency.p50Ms.toFixed(3)),
    p99Ms: Number(r.result.latency.p99Ms.toFixed(3)),
    requests: r.result.requests,
    errors: r.result.errors,
  }));
  writeBenchResults({
    name: 'server-overhead',
    description: [
      `mnist version 2, one digit per request, ${durationS} s per row, closed loop.`,
      'Ratios: inferences/s divided by raw onnxruntime-node `session.run` in one process, and by a bare node:http server that',
      'answers the same binary exchange without inference (the HTTP floor), each at the same concurrency and in the same run.',
      'The load generator runs in the same process as the raw baseline and shares the cores with the server.',
    ],
    columns: [
      { heading: 'path', value: (r) => r.path },
      { heading: 'concurrency', value: (r) => r.concurrency, numeric: true },
      { heading: 'inferences/s', value: (r) => r.inferencesPerS, numeric: true },
      { heading: 'ratio to raw', value: (r) => fmt(r.ratioToRaw, 3), numeric: true },
      { heading: 'ratio to HTTP floor', value: (r) => fmt(r.ratioToHttpFloor, 3), numeric: true },
      { heading: 'p50 ms', value: (r) => fmt(r.p50Ms, 3), numeric: true },
      { heading: 'p99 ms', value: (r) => fmt(r.p99Ms, 3), numeric: true },
      { heading: 'errors', value: (r) => r.errors, numeric: true },
    ],
    rows: table,
    meta: { model: 'mnist:2', durationS },
  });
}

await main();
