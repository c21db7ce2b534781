import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Client,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { OipHttpClient } from '../../src/client/index.js';
import { startGateway, writeServiceFile } from '../fixtures/services/gateway-helpers.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits, mapConcurrent } from '../helpers/mnist.js';
import { ROOT } from '../helpers/paths.js';
import { tempRepository } from '../helpers/temp-repo.js';
import { tfDecode } from '../helpers/tf-protos.js';

// The client knows nothing of Flotilla's codec: it is built at run time by proto-loader from TF
// Serving's .proto files under proto/, as a TF Serving user builds a Node client.
const PROTO_FILES = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
];
const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const tf = (
  loadPackageDefinition(loadSync(PROTO_FILES, { ...OPTIONS, includeDirs: [`${ROOT}proto`] }))[
    'tensorflow'
  ] as GrpcObject
)['serving'] as GrpcObject;

// GetModelMetadata packs its SignatureDefMap in a google.protobuf.Any; Python clients Unpack it,
// here protobufjs does (test/helpers/tf-protos.ts).

type Callback = (err: ServiceError | null, res?: unknown) => void;

/** A TF Serving client (PredictionService and ModelService) with promise-returning calls. */
function tfClient(address: string): {
  call<T = Record<string, unknown>>(method: string, request: object): Promise<T>;
  raw(method: string, bytes: Buffer): Promise<Buffer>;
  close(): void;
} {
  const make = (name: string) =>
    new (tf[name] as ServiceClientConstructor)(address, credentials.createInsecure());
  const prediction = make('PredictionService');
  const model = make('ModelService');
  const plain = new Client(address, credentials.createInsecure());
  return {
    call: (method, request) => {
      const client = method === 'GetModelStatus' ? model : prediction;
      return new Promise((resolve, reject) =>
        (client[method] as (r: object, cb: Callback) => void).call(client, request, (err, res) =>
          err ? reject(err) : resolve(res as never),
        ),
      );
    },
    // Hand-made bytes, for messages no generated client would send.
    raw: (method, bytes) =>
      new Promise((resolve, reject) =>
        plain.makeUnaryRequest(
          `/tensorflow.serving.PredictionService/${method}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          (err, res) => (err ? reject(err) : resolve(res!)),
        ),
      ),
    close: () => {
      prediction.close();
      model.close();
      plain.close();
    },
  };
}

async function rejectsWith(promise: Promise<unknown>, code: status, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: ServiceError) => {
    assert.equal(status[err.code], status[code], err.details);
    assert.match(err.details, message);
    return true;
  });
}

/** What the tests read of a PredictResponse. */
interface PredictAnswer {
  readonly model_spec: { name: string; signature_name: string; version: { value: string } };
  readonly outputs: Record<
    string,
    { dtype: string; tensor_shape: { dim: { size: string }[] }; float_val: number[] }
  >;
}

/** A Predict request for mnist's `image` input with `tensor` fields. */
const imageRequest = (tensor: object, spec: object = {}): object => ({
  model_spec: { name: 'mnist', ...spec },
  inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 784 }] }, ...tensor } },
});

/** Protobuf bytes by hand: a length-delimited field. */
const field = (n: number, payload: Buffer | string): Buffer => {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from([(n << 3) | 2, body.length]), body]);
};

describe('TF Serving gRPC: a proto-loader client of TF Serving protos against flotilla serve', () => {
  let server: FlotillaProcess;
  let client: ReturnType<typeof tfClient>;
  const repo = tempRepository(['mnist']);
  const digits = heldOutDigits();

  before(async () => {
    // TF Serving's version labels, from the model's config.yaml (the example's own).
    assert.match(
      readFileSync(join(repo.dir, 'mnist', 'config.yaml'), 'utf8'),
      /^version_labels: \{ stable: 1, canary: 2 \}$/m,
    );
    server = await startServe(['--model-repository', repo.dir, '--models', 'mnist', '--poll-interval', '0']);
    client = tfClient(server.grpcAddress);
  });
  after(async () => {
    client.close();
    assert.equal(await server.stop(), 0);
    repo.remove();
  });

  it('classifies the 1,000 held-out digits through Predict exactly as HTTP does (float_val and tensor_content)', async (t) => {
    const http = new OipHttpClient({ baseUrl: server.url, connections: 8 });
    const viaHttp = await mapConcurrent(digits, 8, async (d) => {
      const res = await http.infer(digitsRequest([d], '2'));
      return argmaxRows(res.outputs[0]!.data as Float32Array, 1)[0]!;
    });
    await http.close();
    // mnist_client sends tf.make_tensor_proto's tensor_content; hand-built clients send float_val.
    const viaGrpc = await mapConcurrent(digits, 8, async (d, i) => {
      const values =
        i % 2 === 0
          ? { tensor_content: Buffer.from(d.pixels.buffer, d.pixels.byteOffset, d.pixels.byteLength) }
          : { float_val: Array.from(d.pixels) };
      // By label, by version number and by default (the newest: 2), in turn.
      const spec = [{ version_label: 'canary' }, { version: { value: '2' } }, {}][i % 3]!;
      const res = await client.call<PredictAnswer>(
        'Predict',
        imageRequest(values, { ...spec, signature_name: 'serving_default' }),
      );
      assert.deepEqual(
        [res.model_spec.name, res.model_spec.version.value, res.model_spec.signature_name],
        ['mnist', '2', 'serving_default'],
      );
      const probs = res.outputs['probs']!;
      assert.equal(probs.dtype, 'DT_FLOAT');
      assert.deepEqual(
        probs.tensor_shape.dim.map((x) => x.size),
        ['1', '10'],
      );
      return argmaxRows(Float32Array.from(probs.float_val), 1)[0]!;
    });
    const accuracy = (p: number[]): number =>
      p.filter((x, i) => x === digits[i]!.label).length / digits.length;
    t.diagnostic(
      `mnist v2 held-out accuracy: http ${accuracy(viaHttp).toFixed(3)}, TF Serving gRPC ${accuracy(viaGrpc).toFixed(3)}`,
    );
    assert.ok(accuracy(viaGrpc) >= 0.93, `accuracy ${accuracy(viaGrpc)}`);
    assert.deepEqual(viaGrpc, viaHttp);
  });

  it('answers version 1 by number and by label, and filters outputs', async () => {
    const pixels = { float_val: Array.from(digits[0]!.pixels) };
    const byNumber = await client.call<PredictAnswer>(
      'Predict',
      imageRequest(pixels, { version: { value: '1' } }),
    );
    const byLabel = await client.call<PredictAnswer>(
      'Predict',
      imageRequest(pixels, { version_label: 'stable' }),
    );
    assert.equal(byNumber.model_spec.version.value, '1');
    assert.deepEqual(byLabel, byNumber);
    const filtered = await client.call<PredictAnswer>('Predict', {
      ...imageRequest(pixels),
      output_filter: ['probs'],
    });
    assert.deepEqual(Object.keys(filtered.outputs), ['probs']);
  });

  it('answers GetModelStatus and GetModelMetadata', async () => {
    const available = (version: string) => ({
      version,
      state: 'AVAILABLE',
      status: { error_code: 'OK', error_message: '' },
    });
    assert.deepEqual(await client.call('GetModelStatus', { model_spec: { name: 'mnist' } }), {
      model_version_status: [available('2'), available('1')],
    });
    assert.deepEqual(
      await client.call('GetModelStatus', { model_spec: { name: 'mnist', version: { value: '1' } } }),
      { model_version_status: [available('1')] },
    );
    assert.deepEqual(
      await client.call('GetModelStatus', { model_spec: { name: 'mnist', version_label: 'canary' } }),
      { model_version_status: [available('2')] },
    );
    const meta = await client.call<{
      model_spec: { name: string; version: { value: string } };
      metadata: Record<string, { type_url: string; value: Buffer }>;
    }>('GetModelMetadata', { model_spec: { name: 'mnist' }, metadata_field: ['signature_def'] });
    assert.deepEqual([meta.model_spec.name, meta.model_spec.version.value], ['mnist', '2']);
    const any = meta.metadata['signature_def']!;
    assert.equal(any.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const map = tfDecode('tensorflow.serving.SignatureDefMap', any.value);
    const tensor = (name: string, last: string) => ({
      name,
      dtype: 'DT_FLOAT',
      tensor_shape: { dim: [{ size: '-1' }, { size: last }] },
    });
    assert.deepEqual(map, {
      signature_def: {
        serving_default: {
          inputs: { image: tensor('image', '784') },
          outputs: { probs: tensor('probs', '10') },
          method_name: 'tensorflow/serving/predict',
        },
      },
    });
  });

  it('refuses bad input with TF Serving status codes and keeps serving', async () => {
    const pixels = { float_val: Array.from(digits[0]!.pixels) };
    const cases: readonly [string, object, status, RegExp][] = [
      [
        'unknown model',
        imageRequest(pixels, { name: 'nope' }),
        status.NOT_FOUND,
        /model "nope" is not found/,
      ],
      [
        'unknown version',
        imageRequest(pixels, { version: { value: '7' } }),
        status.NOT_FOUND,
        /has no version 7/,
      ],
      [
        'unknown label',
        imageRequest(pixels, { version_label: 'beta' }),
        status.INVALID_ARGUMENT,
        /no version label "beta" \(labels: stable, canary\)/,
      ],
      [
        'unknown signature',
        imageRequest(pixels, { signature_name: 'classify' }),
        status.FAILED_PRECONDITION,
        /signature_name: "classify" is not a signature of model "mnist"/,
      ],
      [
        'wrong dtype',
        imageRequest({ dtype: 'DT_INT32', int_val: new Array(784).fill(0) }),
        status.INVALID_ARGUMENT,
        /^input "image": datatype INT32 but model "mnist" takes FP32$/,
      ],
      [
        'a dtype no model takes',
        imageRequest({ dtype: 'DT_COMPLEX64', scomplex_val: [1, 2] }),
        status.INVALID_ARGUMENT,
        /DT_COMPLEX64 is not served/,
      ],
      [
        'tensor_content shorter than the shape',
        imageRequest({ tensor_content: Buffer.alloc(12) }),
        status.INVALID_ARGUMENT,
        /tensor_content: has 12 bytes but shape \[1,784\] of DT_FLOAT holds 3136/,
      ],
      [
        'float_val shorter than the shape',
        imageRequest({ float_val: [0.5] }),
        status.INVALID_ARGUMENT,
        /float_val: has 1 values but shape \[1,784\] holds 784/,
      ],
      [
        'values in the wrong field',
        imageRequest({ ...pixels, double_val: [1] }),
        status.INVALID_ARGUMENT,
        /double_val: holds values but dtype DT_FLOAT takes float_val/,
      ],
      [
        'an unknown dimension in a request',
        imageRequest({ ...pixels, tensor_shape: { dim: [{ size: -1 }, { size: 784 }] } }),
        status.INVALID_ARGUMENT,
        /must be a non-negative integer/,
      ],
      [
        'a shape the model does not take',
        imageRequest({ float_val: [1, 2], tensor_shape: { dim: [{ size: 1 }, { size: 2 }] } }),
        status.INVALID_ARGUMENT,
        /shape \[1,2\] but model "mnist" takes \[-1,784\]/,
      ],
      [
        'an unknown output alias',
        { ...imageRequest(pixels), output_filter: ['logits'] },
        status.INVALID_ARGUMENT,
        /output "logits" is not an output of model "mnist"/,
      ],
      [
        'an unknown input alias',
        { model_spec: { name: 'mnist' }, inputs: { pixels: { dtype: 'DT_FLOAT' } } },
        status.INVALID_ARGUMENT,
        /input "pixels" is not an input of model "mnist"/,
      ],
      ['no model spec', { inputs: {} }, status.INVALID_ARGUMENT, /model_spec: required/],
    ];
    for (const [what, request, code, message] of cases) {
      await rejectsWith(client.call('Predict', request), code, message).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });
    }
    // A TensorProto whose tensor_shape declares more bytes than the message holds.
    const spec = field(1, field(1, 'mnist'));
    const broken = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x40]), Buffer.from([0x12, 0x02])]);
    const malformed = Buffer.concat([spec, field(2, Buffer.concat([field(1, 'image'), field(2, broken)]))]);
    await rejectsWith(
      client.raw('Predict', malformed),
      status.INVALID_ARGUMENT,
      /declares 64 bytes but 2 remain/,
    );
    // A message cut short inside the map entry.
    await rejectsWith(
      client.raw('Predict', Buffer.concat([spec, Buffer.from([0x12, 0x7f, 0x0a])])),
      status.INVALID_ARGUMENT,
      /declares 127 bytes/,
    );
    await rejectsWith(
      client.call('Classify', { model_spec: { name: 'mnist' } }),
      status.UNIMPLEMENTED,
      /Classify is not supported.*use Predict/,
    );
    await rejectsWith(
      client.call('GetModelMetadata', { model_spec: { name: 'mnist' } }),
      status.INVALID_ARGUMENT,
      /must specify at least one metadata_field/,
    );
    await rejectsWith(
      client.call('GetModelStatus', { model_spec: { name: 'mnist', version: { value: '9' } } }),
      status.NOT_FOUND,
      /has no version 9/,
    );
    await rejectsWith(
      client.call('GetModelStatus', { model_spec: { name: 'nope' } }),
      status.NOT_FOUND,
      /not found/,
    );
    // Still serving.
    const res = await client.call<PredictAnswer>('Predict', imageRequest(pixels));
    assert.equal(res.outputs['probs']!.float_val.length, 10);
  });

  it('serves version labels and NaN/Infinity tokens over TF Serving REST', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${server.url}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const status1 = await get('/v1/models/mnist/labels/stable');
    assert.deepEqual(status1, {
      status: 200,
      body: {
        model_version_status: [
          { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        ],
      },
    });
    const meta = await get('/v1/models/mnist/labels/canary/metadata');
    assert.equal((meta.body['model_spec'] as { version: string }).version, '2');
    const unknown = await get('/v1/models/mnist/labels/beta');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body['code'], 'FLT_UNKNOWN_VERSION_LABEL');
    // NaN pixels make NaN probabilities: TF Serving's tokens both ways.
    const row = `[${new Array(784).fill('NaN').join(',')}]`;
    const res = await fetch(`${server.url}/v1/models/mnist/labels/stable:predict`, {
      method: 'POST',
      body: `{"instances": [${row}]}`,
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `{"predictions":[[${new Array(10).fill('NaN').join(',')}]]}`);
    const inf = await fetch(`${server.url}/v1/models/mnist:predict`, {
      method: 'POST',
      body: `{"inputs": [[Infinity, -Infinity${',0'.repeat(782)}]]}`,
    });
    assert.equal(inf.status, 200, await inf.clone().text());
  });

  it('relays TF Serving gRPC through `flotilla gateway`, routed by model_spec.name', async () => {
    // Service `digits` runs model `mnist`: the gateway routes by the name the client sends and
    // rewrites it for the replica, as it does for OIP calls.
    const config = writeServiceFile(`
services:
  digits:
    variants:
      - { tag: v1, modelName: mnist, endpoints: "${new URL(server.url).host}", grpcEndpoints: "${server.grpcAddress}" }
`);
    const gateway = await startGateway(config, ['--grpc-port', '0']);
    const viaGateway = tfClient(gateway.grpcAddress);
    try {
      const pixels = { float_val: Array.from(digits[0]!.pixels) };
      const direct = await client.call<PredictAnswer>(
        'Predict',
        imageRequest(pixels, { version_label: 'stable' }),
      );
      const relayed = await viaGateway.call<PredictAnswer>(
        'Predict',
        imageRequest(pixels, { name: 'digits', version_label: 'stable' }),
      );
      assert.deepEqual(relayed.outputs, direct.outputs);
      assert.equal(relayed.model_spec.version.value, '1');
      const statuses = await viaGateway.call('GetModelStatus', { model_spec: { name: 'digits' } });
      assert.equal((statuses['model_version_status'] as unknown[]).length, 2);
      await rejectsWith(
        viaGateway.call('Predict', imageRequest(pixels, { name: 'nope' })),
        status.NOT_FOUND,
        // One service: the gateway sends every call to it (as OIP calls), and the replica answers.
        /model "nope" is not found/,
      );
      await rejectsWith(
        viaGateway.call('Predict', imageRequest(pixels, { name: 'digits', signature_name: 'x' })),
        status.FAILED_PRECONDITION,
        /not a signature/,
      );
    } finally {
      viaGateway.close();
      await gateway.stop();
    }
  });
});
