import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { OipGrpcClient, OipHttpClient } from '../../src/client/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits, mapConcurrent } from '../helpers/mnist.js';
import { CLI, EXAMPLE_MODELS, ROOT } from '../helpers/paths.js';

const MNIST = join(EXAMPLE_MODELS, 'mnist');
const digits = heldOutDigits().filter((_, i) => i % 5 === 0);

/** A folder laid out as KServe's storage initializer leaves /mnt/models. */
function modelDir(layout: (dir: string) => void): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-mnt-models-'));
  layout(dir);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const accuracy = (predicted: readonly number[]): number =>
  predicted.filter((p, i) => p === digits[i]!.label).length / digits.length;

/** Classifies the digits over OIP HTTP and OIP gRPC (Flotilla's clients); both must agree. */
async function classifyBoth(server: FlotillaProcess, version?: string): Promise<number[]> {
  const http = new OipHttpClient({ baseUrl: server.url, connections: 4 });
  const grpc = new OipGrpcClient({ address: server.grpcAddress });
  try {
    const viaHttp = await mapConcurrent(digits, 4, async (d) => {
      const res = await http.infer(digitsRequest([d], version));
      return argmaxRows(res.outputs[0]!.data as Float32Array, 1)[0]!;
    });
    const viaGrpc = await mapConcurrent(digits, 4, async (d) => {
      const res = await grpc.infer(digitsRequest([d], version));
      return argmaxRows(res.outputs[0]!.data as Float32Array, 1)[0]!;
    });
    assert.deepEqual(viaGrpc, viaHttp);
    return viaHttp;
  } finally {
    grpc.close();
    await http.close();
  }
}

describe('flotilla serve --model-dir: the model file alone, as KServe leaves /mnt/models', () => {
  let mnt: ReturnType<typeof modelDir>;
  let server: FlotillaProcess;
  before(async () => {
    // No config.yaml: inputs and outputs come from the ONNX file.
    mnt = modelDir((dir) => cpSync(join(MNIST, '2', 'model.onnx'), join(dir, 'model.onnx')));
    server = await startServe(['--model-dir', mnt.dir, '--model-name', 'mnist', '--poll-interval', '0']);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    mnt.remove();
  });

  it('serves it as version 1 under --model-name, inputs read from the model', async () => {
    const meta = await (await fetch(`${server.url}/v2/models/mnist`)).json();
    assert.deepEqual(meta, {
      name: 'mnist',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 784] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
    });
    assert.equal((await fetch(`${server.url}/v2/models/mnist/versions/1/ready`)).status, 200);
  });

  it('classifies held-out digits over HTTP and gRPC alike', async (t) => {
    const predicted = await classifyBoth(server);
    t.diagnostic(`accuracy ${accuracy(predicted).toFixed(3)} on ${digits.length} digits`);
    assert.ok(accuracy(predicted) >= 0.9, `accuracy ${accuracy(predicted)}`);
  });
});

describe('flotilla serve --model-dir: one file under another name (a storageUri naming a file)', () => {
  it('finds the only .onnx file when model.onnx is absent', async () => {
    const mnt = modelDir((dir) => cpSync(join(MNIST, '1', 'model.onnx'), join(dir, 'digits.onnx')));
    const server = await startServe([
      '--model-dir',
      mnt.dir,
      '--model-name',
      'digits',
      '--poll-interval',
      '0',
    ]);
    try {
      const res = await fetch(`${server.url}/v2/models/digits`);
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { versions: string[] }).versions, ['1']);
    } finally {
      assert.equal(await server.stop(), 0);
      mnt.remove();
    }
  });
});

describe('flotilla serve --model-dir: numbered version folders and a config.yaml', () => {
  let mnt: ReturnType<typeof modelDir>;
  let server: FlotillaProcess;
  before(async () => {
    mnt = modelDir((dir) => cpSync(MNIST, dir, { recursive: true }));
    server = await startServe(['--model-dir', mnt.dir, '--model-name', 'digits', '--poll-interval', '0']);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    mnt.remove();
  });

  it("serves the versions its config's version_policy asks for", async () => {
    const meta = (await (await fetch(`${server.url}/v2/models/digits`)).json()) as { versions: string[] };
    assert.deepEqual(meta.versions, ['1', '2']);
    // The model is called by --model-name, not by its folder's name.
    assert.equal((await fetch(`${server.url}/v2/models/mnist`)).status, 404);
  });

  it("answers KServe's generated gRPC client, version 2", async () => {
    const kserve = loadPackageDefinition(
      loadSync(`${ROOT}test/fixtures/kserve/grpc_predict_v2.proto`, { keepCase: true, longs: String }),
    );
    const Client = (kserve['inference'] as GrpcObject)['GRPCInferenceService'] as ServiceClientConstructor;
    const client = new Client(server.grpcAddress, credentials.createInsecure());
    const d = digits[0]!;
    try {
      const res = await new Promise<{
        model_name: string;
        model_version: string;
        raw_output_contents: Buffer[];
      }>((resolve, reject) =>
        (client['ModelInfer'] as (r: object, cb: (e: ServiceError | null, r?: never) => void) => void).call(
          client,
          {
            model_name: 'digits',
            model_version: '2',
            inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784] }],
            raw_input_contents: [Buffer.from(d.pixels.buffer, d.pixels.byteOffset, d.pixels.byteLength)],
          },
          (err, r) => (err ? reject(err) : resolve(r!)),
        ),
      );
      assert.deepEqual([res.model_name, res.model_version], ['digits', '2']);
      const probs = new Float32Array(new Uint8Array(res.raw_output_contents[0]!).buffer);
      assert.equal(argmaxRows(probs, 1)[0], d.label);
    } finally {
      client.close();
    }
  });
});

// The other flag mistakes are table-tested on modelSource (test/unit/serve-source.test.ts).
describe('flotilla serve: --model-dir and --model-repository are one choice', () => {
  const empty = mkdtempSync(join(tmpdir(), 'flotilla-empty-'));
  mkdirSync(join(empty, 'm'));
  after(() => rmSync(empty, { recursive: true, force: true }));
  const cases: readonly [string, readonly string[], RegExp][] = [
    ['both', ['--model-dir', empty, '--model-name', 'm', '--model-repository', empty], /exclude each other/],
    ['neither', [], /give --model-repository DIR, or --model-dir DIR with --model-name NAME/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: one line, exit 2`, () => {
      const run = spawnSync(process.execPath, [CLI, 'serve', ...args], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    });
  }
});
