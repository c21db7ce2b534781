/**
 * bench/single-port: what `flotilla serve --port` (one port, each connection's first bytes read
 * to tell HTTP/1.1 from HTTP/2) costs against the two-port baseline (`--http-port` and
 * `--grpc-port`), on the same model in one run.
 *
 * Two servers of mnist version 2, loaded in alternating paired rounds (two ports, then one port,
 * back to back) so the machine's drift over the run falls on both sides alike: HTTP binary over
 * keep-alive connections (`flotilla bench`'s own generator: the sniffing is paid once per
 * connection, so this shows the per-request path), HTTP with a new connection per request (the
 * sniffing paid on every request: its worst case), and gRPC (@grpc/grpc-js, raw tensors; an
 * injected connection against a bound one). Each row is the median (and range) of the rounds;
 * the ratio is one port / two ports, requests per second.
 *
 *   npm run build && node dist/bench/single-port.js [--rounds 5] [--seconds 3]
 */
import { request as httpRequest } from 'node:http';
import { heldOutDigits } from '../examples/training/mnist-data.js';
import { runClosedLoop } from '../src/bench/index.js';
import { OipGrpcClient } from '../src/client/index.js';
import { encodeModelInferRequest } from '../src/protocol/oip-grpc/index.js';
import { encodeInferRequest } from '../src/protocol/oip-rest/index.js';
import { type FlotillaProcess, startCli, startServe, waitFor } from '../test/helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../test/helpers/paths.js';
import { closedLoopHttp } from './lib/http-load.js';
import { pairedRounds } from './lib/paired.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const rounds = numberArg('rounds', 5);
const seconds = numberArg('seconds', 3);
const SERVE = ['--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--poll-interval', '0'];

const digit = heldOutDigits()[0]!;
const image = {
  name: 'image',
  datatype: 'FP32',
  shape: [1, 784],
  data: Float32Array.from(digit.pixels),
} as const;
const request = { model: 'mnist', version: '2', inputs: [image] };
const PATH = '/v2/models/mnist/versions/2/infer';
const { body, headerLength } = encodeInferRequest(request, { binaryInputs: true, binaryOutputs: true });
const HEADERS = {
  'content-type': 'application/octet-stream',
  'inference-header-content-length': String(headerLength),
};

interface Side {
  readonly url: string;
  readonly grpc: string;
}

type Measure = (side: Side) => Promise<number>;

const httpKeepAlive =
  (concurrency: number): Measure =>
  async (side) => {
    const r = await closedLoopHttp(
      side.url,
      { path: PATH, headers: HEADERS, body },
      concurrency,
      seconds * 1000,
    );
    if (r.errors > 0) throw new Error(`${side.url}: ${r.errors} errors, first ${r.firstError}`);
    return r.throughput;
  };

/** One request per connection (`agent: false`): every request pays the connection's first-bytes check. */
const httpNewConnection =
  (concurrency: number): Measure =>
  async (side) => {
    const u = new URL(side.url);
    const once = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: u.hostname,
            port: Number(u.port),
            method: 'POST',
            path: PATH,
            agent: false,
            headers: { ...HEADERS, 'content-length': body.length, connection: 'close' },
          },
          (res) => {
            res.resume();
            res.once('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
            );
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    const r = await runClosedLoop({ concurrency, durationMs: seconds * 1000, warmupMs: 500 }, once);
    if (r.errors > 0) throw new Error(`${side.url}: ${r.errors} errors, first ${r.firstError}`);
    return r.throughput;
  };

const grpcRaw =
  (concurrency: number): Measure =>
  async (side) => {
    const client = new OipGrpcClient({ address: side.grpc });
    const message = encodeModelInferRequest(request, { raw: true });
    try {
      await client.modelInfer(message);
      const r = await runClosedLoop({ concurrency, durationMs: seconds * 1000, warmupMs: 500 }, () =>
        client.modelInfer(message),
      );
      if (r.errors > 0) throw new Error(`${side.grpc}: ${r.errors} errors, first ${r.firstError}`);
      return r.throughput;
    } finally {
      client.close();
    }
  };

const CASES: readonly { readonly path: string; readonly concurrency: number; readonly measure: Measure }[] = [
  { path: 'HTTP binary, keep-alive', concurrency: 1, measure: httpKeepAlive(1) },
  { path: 'HTTP binary, keep-alive', concurrency: 8, measure: httpKeepAlive(8) },
  { path: 'HTTP binary, new connection per request', concurrency: 4, measure: httpNewConnection(4) },
  { path: 'gRPC raw tensors', concurrency: 8, measure: grpcRaw(8) },
];

async function main(): Promise<void> {
  const servers: FlotillaProcess[] = [];
  try {
    const twoPorts = await startServe(SERVE);
    servers.push(twoPorts);
    const onePort = await startCli(['serve', ...SERVE, '--port', '0'], {
      listenTimeoutMs: 30_000,
      what: 'flotilla serve --port',
    });
    servers.push(onePort);
    await waitFor(
      async () => (await fetch(`${onePort.url}/v2/health/ready`)).status === 200,
      60_000,
      'ready',
    );
    const base: Side = { url: twoPorts.url, grpc: twoPorts.grpcAddress };
    const single: Side = { url: onePort.url, grpc: onePort.grpcAddress };
    const rows = [];
    for (const c of CASES) {
      const r = await pairedRounds(c.measure, base, single, rounds);
      rows.push({
        path: c.path,
        concurrency: c.concurrency,
        twoPortsPerS: r.basePerS,
        onePortPerS: r.otherPerS,
        ratio: r.ratio,
        ratioMin: r.ratioMin,
        ratioMax: r.ratioMax,
      });
    }
    writeBenchResults({
      name: 'single-port',
      description: [
        `mnist version 2, one digit per request, closed loop; ${rounds} paired rounds of ${seconds} s per side`,
        '(two-port server, then `--port` server, back to back). Medians of the rounds; ratio = one port / two ports requests/s, range in brackets.',
        "The one-port server reads each connection's first bytes (up to the 24-byte HTTP/2 preface) before handing it on; gRPC connections are injected into grpc-js instead of accepted by it.",
        'The load generator runs on the same cores as the servers.',
      ],
      columns: [
        { heading: 'path', value: (r) => r.path },
        { heading: 'concurrency', value: (r) => r.concurrency, numeric: true },
        { heading: 'two ports requests/s', value: (r) => r.twoPortsPerS, numeric: true },
        { heading: 'one port requests/s', value: (r) => r.onePortPerS, numeric: true },
        {
          heading: 'one / two ports',
          value: (r) => `${r.ratio.toFixed(3)} (${r.ratioMin.toFixed(3)}–${r.ratioMax.toFixed(3)})`,
          numeric: true,
        },
      ],
      rows,
      meta: { model: 'mnist:2', rounds, secondsPerSide: seconds },
    });
  } finally {
    for (const s of servers) await s.stop();
  }
}

await main();
