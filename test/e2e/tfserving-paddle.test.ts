import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OipHttpClient } from '../../src/client/index.js';
import { bytesToStrings } from '../../src/core/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { rawRequest } from '../helpers/raw-http.js';
import { tempRepository } from '../helpers/temp-repo.js';

/** A BYTES model for b64 round trips: echoes each element and its length. */
function addEchoModel(dir: string): void {
  mkdirSync(join(dir, 'echo', '1'), { recursive: true });
  writeFileSync(
    join(dir, 'echo', 'config.yaml'),
    [
      'backend: js',
      'instances: 1',
      'inputs:',
      '  - { name: blob, datatype: BYTES, shape: [-1] }',
      'outputs:',
      '  - { name: size, datatype: INT32, shape: [-1] }',
      '  - { name: blob_bytes, datatype: BYTES, shape: [-1] }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'echo', '1', 'model.js'),
    `export function infer({ blob }) {
  return {
    size: { datatype: 'INT32', shape: blob.shape, data: Int32Array.from(blob.data, (b) => b.length) },
    blob_bytes: { datatype: 'BYTES', shape: blob.shape, data: blob.data },
  };
}
`,
  );
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

describe('flotilla serve: TF Serving REST and Paddle Serving front ends', () => {
  const repo = tempRepository(['mnist'], ['sum', 'classify']);
  addEchoModel(repo.dir);
  let server: FlotillaProcess;
  let client: OipHttpClient;
  // Three held-out digits of each class: one batch under mnist's max_batch_size of 64.
  const digits = heldOutDigits().filter((_, i) => i % 100 < 3);
  const pixels = digits.map((d) => Array.from(d.pixels));

  const call = async (method: string, path: string, value?: unknown): Promise<Answer> => {
    const text = value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
    const res = await rawRequest(server.url, method, path, text, { 'content-type': 'application/json' });
    assert.equal(res.headers['content-type'], 'application/json');
    return { status: res.status, body: JSON.parse(res.body.toString('utf8')) as Record<string, unknown> };
  };
  const ok = async (method: string, path: string, value?: unknown): Promise<Record<string, unknown>> => {
    const res = await call(method, path, value);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  /** The OIP v2 answer for the same digits, the reference every front end must match. */
  const oipProbs = async (version?: string): Promise<Float32Array> =>
    (await client.infer(digitsRequest(digits, version))).outputs[0]!.data as Float32Array;
  const asFloat32 = (rows: unknown): Float32Array => Float32Array.from((rows as number[][]).flat());

  before(async () => {
    server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0']);
    client = new OipHttpClient({ baseUrl: server.url });
  });
  after(async () => {
    await client.close();
    assert.equal(await server.stop(), 0);
    repo.remove();
  });

  it('classifies held-out digits through TF Serving row format as OIP does', async () => {
    assert.equal(digits.length, 30);
    const res = await ok('POST', '/v1/models/mnist:predict', { instances: pixels });
    assert.deepEqual(asFloat32(res['predictions']), await oipProbs());
    const v1 = await ok('POST', '/v1/models/mnist/versions/1:predict', {
      signature_name: 'serving_default',
      instances: pixels.map((image) => ({ image })),
    });
    assert.deepEqual(asFloat32(v1['predictions']), await oipProbs('1'));
  });

  it('classifies them through TF Serving columnar format as OIP does', async () => {
    const res = await ok('POST', '/v1/models/mnist:predict', { inputs: pixels });
    assert.deepEqual(asFloat32(res['outputs']), await oipProbs());
    const named = await ok('POST', '/v1/models/mnist/versions/2:predict', { inputs: { image: pixels } });
    assert.deepEqual(asFloat32(named['outputs']), await oipProbs('2'));
  });

  it('classifies them through Paddle feed/fetch as OIP does', async () => {
    const res = await ok('POST', '/mnist/prediction', {
      feed: pixels.map((image) => ({ image })),
      fetch: ['probs'],
    });
    assert.deepEqual(Object.keys(res['result'] as object), ['probs']);
    assert.deepEqual(asFloat32((res['result'] as { probs: unknown }).probs), await oipProbs());
  });

  it('answers several inputs and several outputs in each format', async () => {
    const sumRow = await ok('POST', '/v1/models/sum:predict', {
      instances: [
        { a: 1, b: 10 },
        { a: 2, b: 20 },
      ],
    });
    assert.deepEqual(sumRow, { predictions: [11, 22] });
    const sumColumns = await ok('POST', '/v1/models/sum:predict', { inputs: { a: [1, 2], b: [10, 20] } });
    assert.deepEqual(sumColumns, { outputs: [11, 22] });
    const sumPaddle = await ok('POST', '/sum/prediction', {
      feed: [
        { a: 1, b: 10 },
        { a: 2, b: 20 },
      ],
    });
    assert.deepEqual(sumPaddle, { result: { c: [11, 22] } });

    const three = digits.slice(0, 3);
    const reference = await client.infer({ ...digitsRequest(three), model: 'classify' });
    const labels = bytesToStrings(reference.outputs.find((t) => t.name === 'label')!.data as Uint8Array[]);
    const probs = Array.from(reference.outputs.find((t) => t.name === 'prob')!.data as Float32Array);
    const rows = await ok('POST', '/v1/models/classify:predict', { instances: pixels.slice(0, 3) });
    assert.deepEqual(rows, { predictions: labels.map((label, i) => ({ label, prob: probs[i] })) });
    const columns = await ok('POST', '/v1/models/classify:predict', { inputs: pixels.slice(0, 3) });
    assert.deepEqual(columns, { outputs: { label: labels, prob: probs } });
    const paddle = await ok('POST', '/classify/prediction', {
      feed: [{ image: [pixels[0]] }],
      fetch: ['label'],
    });
    assert.deepEqual(paddle, { result: { label: labels.slice(0, 1) } });
  });

  it('carries binary BYTES as b64 both ways', async () => {
    const row = await ok('POST', '/v1/models/echo:predict', { instances: [{ b64: '/wA=' }, 'hé'] });
    assert.deepEqual(row, {
      predictions: [
        { size: 2, blob_bytes: { b64: '/wA=' } },
        { size: 3, blob_bytes: { b64: Buffer.from('hé').toString('base64') } },
      ],
    });
    const paddle = await ok('POST', '/echo/prediction', { feed: [{ blob: 'hé' }] });
    assert.deepEqual(paddle, { result: { size: [3], blob_bytes: ['hé'] } });
  });

  it('reports model status TF Serving style', async () => {
    const ok200 = { error_code: 'OK', error_message: '' };
    assert.deepEqual(await ok('GET', '/v1/models/mnist'), {
      model_version_status: [
        { version: '2', state: 'AVAILABLE', status: ok200 },
        { version: '1', state: 'AVAILABLE', status: ok200 },
      ],
    });
    assert.deepEqual(await ok('GET', '/v1/models/mnist/versions/1'), {
      model_version_status: [{ version: '1', state: 'AVAILABLE', status: ok200 }],
    });
  });

  it('reports model metadata TF Serving style', async () => {
    const meta = (await ok('GET', '/v1/models/mnist/metadata')) as {
      model_spec: { name: string; version: string };
      metadata: { signature_def: { signature_def: Record<string, Record<string, unknown>> } };
    };
    assert.deepEqual(meta.model_spec, { name: 'mnist', signature_name: '', version: '2' });
    const def = meta.metadata.signature_def.signature_def['serving_default']!;
    assert.equal(def['method_name'], 'tensorflow/serving/predict');
    assert.deepEqual(def['inputs'], {
      image: {
        dtype: 'DT_FLOAT',
        tensor_shape: {
          dim: [
            { size: '-1', name: '' },
            { size: '784', name: '' },
          ],
          unknown_rank: false,
        },
        name: 'image',
      },
    });
    assert.deepEqual(Object.keys(def['outputs'] as object), ['probs']);
    const v1 = (await ok('GET', '/v1/models/mnist/versions/1/metadata')) as {
      model_spec: { version: string };
    };
    assert.equal(v1.model_spec.version, '1');
  });

  const row = pixels[0]!;
  const TF = '/v1/models/mnist:predict';
  const PD = '/mnist/prediction';
  // [name, path, body (none: GET), code, message]; *_NOT_FOUND codes answer 404, the rest 400.
  const badCases: [string, string, unknown, string, RegExp][] = [
    ['TF: malformed JSON', TF, '{"instances": [', 'FLT_INVALID_JSON', /not valid JSON/],
    [
      'TF: neither instances nor inputs',
      TF,
      { image: [row] },
      'FLT_INVALID_FIELD',
      /one of them is required/,
    ],
    [
      'TF: both instances and inputs',
      TF,
      { instances: [row], inputs: [row] },
      'FLT_INVALID_FIELD',
      /not both/,
    ],
    [
      'TF: instances of inconsistent shapes',
      TF,
      { instances: [row, row.slice(1)] },
      'FLT_INVALID_FIELD',
      /instances\[1\]: shape \[783\] differs from instances\[0\]'s \[784\]/,
    ],
    [
      'TF: unknown input',
      TF,
      { instances: [{ pixels: row }] },
      'FLT_UNKNOWN_INPUT',
      /instances\[0\]: input "pixels" is not an input of model "mnist" \(inputs: image\)/,
    ],
    [
      'TF: wrong value type',
      TF,
      { inputs: { image: [[...row.slice(1), 'x']] } },
      'FLT_INVALID_FIELD',
      /inputs\.image\[0\]\[783\]: FP32 elements must be numbers, got "x"/,
    ],
    [
      'TF: shape the model cannot take',
      TF,
      { instances: [row.slice(1)] },
      'FLT_SHAPE_MISMATCH',
      /input "image": shape \[1,783\] but model "mnist" takes \[-1,784\]/,
    ],
    [
      'TF: plain instances, two inputs',
      '/v1/models/sum:predict',
      { instances: [1] },
      'FLT_INVALID_FIELD',
      /has 2 \(a, b\)/,
    ],
    [
      'TF: other signature',
      TF,
      { signature_name: 'predict', instances: [row] },
      'FLT_UNKNOWN_SIGNATURE',
      /signature_name: "predict" is not a signature of model "mnist"/,
    ],
    [
      'TF: unknown model',
      '/v1/models/nope:predict',
      { instances: [row] },
      'FLT_MODEL_NOT_FOUND',
      /"nope" is not found/,
    ],
    [
      'TF: unknown version',
      '/v1/models/mnist/versions/9:predict',
      { instances: [row] },
      'FLT_VERSION_NOT_FOUND',
      /no version 9/,
    ],
    [
      'TF: status, unknown model',
      '/v1/models/nope',
      undefined,
      'FLT_MODEL_NOT_FOUND',
      /model "nope" is not found/,
    ],
    [
      'TF: status, unknown version',
      '/v1/models/mnist/versions/9',
      undefined,
      'FLT_VERSION_NOT_FOUND',
      /\(versions: 1, 2\)/,
    ],
    [
      'TF: metadata, unknown model',
      '/v1/models/nope/metadata',
      undefined,
      'FLT_MODEL_NOT_FOUND',
      /"nope" is not found/,
    ],
    [
      'TF: classify API',
      '/v1/models/mnist:classify',
      { examples: [] },
      'FLT_ROUTE_NOT_FOUND',
      /:classify API is not/,
    ],
    ['Paddle: malformed JSON', PD, '{"feed": [', 'FLT_INVALID_JSON', /not valid JSON/],
    [
      'Paddle: no feed',
      PD,
      { fetch: ['probs'] },
      'FLT_INVALID_FIELD',
      /feed: must be an object \{input_name: value\} or a non-empty list/,
    ],
    [
      'Paddle: unknown input',
      PD,
      { feed: [{ x: row }] },
      'FLT_UNKNOWN_INPUT',
      /feed\[0\]: input "x" is not an input/,
    ],
    [
      'Paddle: wrong value type',
      PD,
      { feed: [{ image: [true, ...row.slice(1)] }] },
      'FLT_INVALID_FIELD',
      /feed\[0\]\.image\[0\]: FP32 elements must be numbers, got true/,
    ],
    [
      'Paddle: shape fitting neither model nor row',
      PD,
      { feed: [{ image: row.slice(1) }] },
      'FLT_SHAPE_MISMATCH',
      /feed\[0\]\.image: shape \[783\] fits neither/,
    ],
    [
      'Paddle: entries feeding different inputs',
      '/sum/prediction',
      { feed: [{ a: 1, b: 2 }, { a: 1 }] },
      'FLT_INVALID_FIELD',
      /feed\[1\]: feeds a but feed\[0\] feeds a, b/,
    ],
    [
      'Paddle: unknown fetch',
      PD,
      { feed: [{ image: row }], fetch: ['score'] },
      'FLT_UNKNOWN_OUTPUT',
      /fetch\[0\]: "score" is not an output of model "mnist" \(outputs: probs\)/,
    ],
    [
      'Paddle: unknown model',
      '/nope/prediction',
      { feed: [{ image: row }] },
      'FLT_MODEL_NOT_FOUND',
      /"nope" is not found/,
    ],
  ];

  for (const [name, path, value, code, message] of badCases) {
    const status = code.endsWith('_NOT_FOUND') ? 404 : 400;
    it(`${name} -> ${status}`, async () => {
      const res = await call(value === undefined ? 'GET' : 'POST', path, value);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body['code'], code);
      assert.match(String(res.body['error']), message);
    });
  }

  it('still answers every front end after all of that', async () => {
    const [tf, paddle] = await Promise.all([
      ok('POST', '/v1/models/mnist:predict', { instances: [row] }),
      ok('POST', '/mnist/prediction', { feed: [{ image: row }] }),
    ]);
    assert.deepEqual(tf['predictions'], (paddle['result'] as { probs: unknown }).probs);
  });
});
