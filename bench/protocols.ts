/**
 * bench/protocols: the same mnist inference over every protocol Flotilla speaks.
 *
 * mnist version 2, one digit per request, concurrency 8, one `flotilla serve`, in one run:
 * OIP v2 HTTP JSON (the baseline), OIP HTTP binary, OIP gRPC typed contents and raw contents,
 * TF Serving REST (row format) and Paddle Serving HTTP. Requests are encoded once and resent,
 * so the figures measure the server. Writes bench/results/protocols.{json,md}.
 *
 *   npm run build && node dist/bench/protocols.js [--duration 5] [--concurrency 8]
 */
import { Pool } from 'undici';
import { heldOutDigits } from '../examples/training/mnist-data.js';
import { type ClosedLoopResult, runClosedLoop } from '../src/bench/index.js';
import { OipGrpcClient } from '../src/client/index.js';
import type { InferRequest } from '../src/core/index.js';
import { encodeModelInferRequest } from '../src/protocol/oip-grpc/index.js';
import { encodeInferRequest } from '../src/protocol/oip-rest/index.js';
import { startServe } from '../test/helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../test/helpers/paths.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const durationMs = numberArg('duration', 5) * 1000;
const concurrency = numberArg('concurrency', 8);

const pixels = Array.from(heldOutDigits()[0]!.pixels);
const request: InferRequest = {
  model: 'mnist',
  version: '2',
  inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784], data: Float32Array.from(pixels) }],
};

interface HttpLoad {
  readonly path: string;
  readonly body: Buffer | string;
  readonly headers: Record<string, string>;
}

function oipHttp(binary: boolean): HttpLoad {
  const { body, headerLength } = encodeInferRequest(request, { binaryInputs: binary, binaryOutputs: binary });
  const headers: Record<string, string> = {
    'content-type': binary ? 'application/octet-stream' : 'application/json',
  };
  if (headerLength !== undefined) headers['inference-header-content-length'] = String(headerLength);
  return { path: '/v2/models/mnist/versions/2/infer', body, headers };
}

const json = (path: string, value: unknown): HttpLoad => ({
  path,
  body: JSON.stringify(value),
  headers: { 'content-type': 'application/json' },
});

async function loadHttp(url: string, load: HttpLoad): Promise<ClosedLoopResult> {
  const pool = new Pool(url, { connections: concurrency });
  try {
    return await runClosedLoop({ concurrency, durationMs }, async () => {
      const res = await pool.request({
        path: load.path,
        method: 'POST',
        body: load.body,
        headers: load.headers,
      });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    });
  } finally {
    await pool.close();
  }
}

async function loadGrpc(address: string, raw: boolean): Promise<ClosedLoopResult> {
  const client = new OipGrpcClient({ address });
  const message = encodeModelInferRequest(request, { raw });
  try {
    return await runClosedLoop({ concurrency, durationMs }, () => client.modelInfer(message));
  } finally {
    client.close();
  }
}

interface Row {
  readonly protocol: string;
  readonly result: ClosedLoopResult;
  ratio: number;
}

async function main(): Promise<void> {
  const server = await startServe([
    '--model-repository',
    EXAMPLE_MODELS,
    '--models',
    'mnist',
    '--poll-interval',
    '0',
  ]);
  const rows: Row[] = [];
  const add = (protocol: string, result: ClosedLoopResult): void => {
    rows.push({ protocol, result, ratio: 0 });
  };
  try {
    add('OIP HTTP JSON', await loadHttp(server.url, oipHttp(false)));
    add('OIP HTTP binary', await loadHttp(server.url, oipHttp(true)));
    add('OIP gRPC typed contents', await loadGrpc(server.grpcAddress, false));
    add('OIP gRPC raw contents', await loadGrpc(server.grpcAddress, true));
    add(
      'TF Serving REST (row)',
      await loadHttp(server.url, json('/v1/models/mnist/versions/2:predict', { instances: [pixels] })),
    );
    add(
      'Paddle Serving HTTP',
      await loadHttp(server.url, json('/mnist/prediction', { feed: [{ image: pixels }], fetch: ['probs'] })),
    );
  } finally {
    await server.stop();
  }
  const baseline = rows[0]!.result.throughput;
  for (const r of rows) r.ratio = r.result.throughput / baseline;
  writeBenchResults({
    name: 'protocols',
    description: [
      `mnist version 2, one digit per request, closed loop at concurrency ${concurrency}, ${durationMs / 1000} s per protocol, one server.`,
      'Ratio: inferences/s divided by OIP v2 HTTP JSON measured in the same run. The load generator shares the cores with the server.',
    ],
    columns: [
      { heading: 'protocol', value: (r) => r.protocol },
      { heading: 'inferences/s', value: (r) => Math.round(r.result.throughput), numeric: true },
      { heading: 'ratio to OIP HTTP JSON', value: (r) => r.ratio.toFixed(3), numeric: true },
      { heading: 'p50 ms', value: (r) => r.result.latency.p50Ms.toFixed(3), numeric: true },
      { heading: 'p99 ms', value: (r) => r.result.latency.p99Ms.toFixed(3), numeric: true },
      { heading: 'errors', value: (r) => r.result.errors, numeric: true },
    ],
    rows,
    meta: { model: 'mnist:2', concurrency, durationS: durationMs / 1000 },
  });
  if (rows.some((r) => r.result.errors > 0)) process.exitCode = 1;
}

await main();
