/**
 * bench/tls: what TLS costs `flotilla serve`, plain against TLS on the same model in one run.
 *
 * Two servers of mnist version 2 (one plain, one with `--tls-cert/--tls-key` from a throwaway CA
 * made by openssl), loaded in alternating paired rounds (plain, then TLS, back to back) so the
 * machine's drift over the run falls on both sides alike: HTTP binary over keep-alive connections
 * (`flotilla bench`'s own generator) and gRPC (@grpc/grpc-js, raw tensors). Each row is the median
 * (and range) of the rounds; the ratio is TLS / plain inferences per second.
 *
 *   npm run build && node dist/bench/tls.js [--rounds 5] [--seconds 3]
 */
import { heldOutDigits } from '../examples/training/mnist-data.js';
import { runClosedLoop } from '../src/bench/index.js';
import { OipGrpcClient } from '../src/client/index.js';
import { encodeModelInferRequest } from '../src/protocol/oip-grpc/index.js';
import { encodeInferRequest } from '../src/protocol/oip-rest/index.js';
import { connectOptions, readClientTls } from '../src/tls/index.js';
import { makeTestPki } from '../test/helpers/certs.js';
import { type FlotillaProcess, startServe, waitFor } from '../test/helpers/flotilla-process.js';
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

interface Side {
  readonly url: string;
  readonly grpc: string;
  readonly tls: ReturnType<typeof readClientTls> | undefined;
}

type Measure = (side: Side) => Promise<number>;

const httpBinary =
  (concurrency: number): Measure =>
  async (side) => {
    const { body, headerLength } = encodeInferRequest(request, { binaryInputs: true, binaryOutputs: true });
    const load = {
      path: '/v2/models/mnist/versions/2/infer',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(headerLength),
      },
      body,
    };
    const tls = side.tls ? connectOptions(side.tls, '127.0.0.1') : undefined;
    const r = await closedLoopHttp(side.url, load, concurrency, seconds * 1000, tls);
    if (r.errors > 0) throw new Error(`${side.url}: ${r.errors} errors, first ${r.firstError}`);
    return r.throughput;
  };

const grpcRaw =
  (concurrency: number): Measure =>
  async (side) => {
    const client = new OipGrpcClient({ address: side.grpc, ...(side.tls ? { tls: side.tls } : {}) });
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
  { path: 'HTTP binary, keep-alive', concurrency: 1, measure: httpBinary(1) },
  { path: 'HTTP binary, keep-alive', concurrency: 8, measure: httpBinary(8) },
  { path: 'gRPC raw tensors', concurrency: 8, measure: grpcRaw(8) },
];

async function main(): Promise<void> {
  const pki = makeTestPki();
  const servers: FlotillaProcess[] = [];
  try {
    const plainServer = await startServe(SERVE);
    servers.push(plainServer);
    const tlsServer = await startServe(
      [...SERVE, '--tls-cert', pki.server.cert, '--tls-key', pki.server.key],
      {
        waitReady: false,
      },
    );
    servers.push(tlsServer);
    const tls = readClientTls({ caFile: pki.ca }, 'bench');
    const grpc = new OipGrpcClient({ address: tlsServer.grpcAddress, tls });
    await waitFor(() => grpc.serverReady(), 60_000, 'TLS server ready');
    grpc.close();
    const plain: Side = { url: plainServer.url, grpc: plainServer.grpcAddress, tls: undefined };
    const secure: Side = { url: tlsServer.url, grpc: tlsServer.grpcAddress, tls };
    const rows = [];
    for (const c of CASES) {
      const r = await pairedRounds(c.measure, plain, secure, rounds);
      rows.push({
        path: c.path,
        concurrency: c.concurrency,
        plainPerS: r.basePerS,
        tlsPerS: r.otherPerS,
        ratio: r.ratio,
        ratioMin: r.ratioMin,
        ratioMax: r.ratioMax,
      });
    }
    writeBenchResults({
      name: 'tls',
      description: [
        `mnist version 2, one digit per request, closed loop; ${rounds} paired rounds of ${seconds} s per side`,
        '(plain server, then TLS server, back to back). Medians of the rounds; ratio = TLS / plain inferences/s, range in brackets.',
        'TLS: TLS 1.3, ECDSA P-256 certificate, connections kept alive (the handshake is paid once per connection).',
        'The load generator runs on the same cores as the servers.',
      ],
      columns: [
        { heading: 'path', value: (r) => r.path },
        { heading: 'concurrency', value: (r) => r.concurrency, numeric: true },
        { heading: 'plain inferences/s', value: (r) => r.plainPerS, numeric: true },
        { heading: 'TLS inferences/s', value: (r) => r.tlsPerS, numeric: true },
        {
          heading: 'TLS / plain',
          value: (r) => `${r.ratio.toFixed(3)} (${r.ratioMin.toFixed(3)}–${r.ratioMax.toFixed(3)})`,
          numeric: true,
        },
      ],
      rows,
      meta: { model: 'mnist:2', rounds, secondsPerSide: seconds, tlsKey: 'ECDSA P-256' },
    });
  } finally {
    for (const s of servers) await s.stop();
    pki.remove();
  }
}

await main();
