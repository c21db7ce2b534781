import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError, type TensorSpec } from '../../src/core/index.js';
import {
  BODY_ALLOWANCE_BYTES,
  type BodyBounds,
  bodyBounds,
  bodyLimit,
  checkBodySize,
  inferenceHeaderLength,
  inferenceTarget,
  JSON_BYTES_PER_ELEMENT,
  modelBodyLimit,
} from '../../src/server/index.js';

const spec = (name: string, datatype: TensorSpec['datatype'], shape: number[]): TensorSpec => ({
  name,
  datatype,
  shape,
});
const A = BODY_ALLOWANCE_BYTES;
const J = JSON_BYTES_PER_ELEMENT;
/** Row keys: per row, each input's name plus 16 bytes. */
const keys = (rows: number, ...names: string[]): number =>
  rows * names.reduce((n, name) => n + name.length + 16, 0);

// Issue 19, finding 1: the body a model can need, so a larger one is refused from its head.
describe('bodyBounds: the largest body a model accepts, per encoding', () => {
  const cases: [string, readonly TensorSpec[], number, BodyBounds | undefined][] = [
    [
      'mnist: FP32 [-1,784], max_batch_size 64',
      [spec('image', 'FP32', [-1, 784])],
      64,
      { jsonBytes: A + 64 * 784 * J + keys(64, 'image'), binaryBytes: 64 * 784 * 4 },
    ],
    [
      'fixed shape, no batching',
      [spec('x', 'INT8', [2, 3])],
      0,
      { jsonBytes: A + 6 * J + keys(2, 'x'), binaryBytes: 6 },
    ],
    [
      'two inputs of different sizes, batched',
      [spec('a', 'FP64', [-1, 2]), spec('bb', 'INT64', [-1])],
      8,
      { jsonBytes: A + (16 + 8) * J + keys(8, 'a', 'bb'), binaryBytes: 16 * 8 + 8 * 8 },
    ],
    ['a scalar input', [spec('s', 'BOOL', [])], 0, { jsonBytes: A + J + keys(1, 's'), binaryBytes: 1 }],
    ['free batch dimension without batching', [spec('x', 'FP32', [-1])], 0, undefined],
    ['free dimension other than the batch', [spec('x', 'FP32', [-1, -1])], 16, undefined],
    ['a BYTES input (elements of any length)', [spec('s', 'BYTES', [-1, 1])], 4, undefined],
    [
      'one unbounded input among bounded ones',
      [spec('a', 'FP32', [-1, 2]), spec('b', 'FP32', [-1, -1])],
      4,
      undefined,
    ],
    ['sizes past 2^53', [spec('x', 'FP64', [-1, 2 ** 30, 2 ** 30])], 1024, undefined],
  ];
  for (const [name, inputs, maxBatchSize, expected] of cases) {
    it(name, () => assert.deepEqual(bodyBounds({ inputs, maxBatchSize }), expected));
  }

  it('bodyLimit: JSON up to jsonBytes; binary: its JSON header (at most jsonBytes) plus the exact data', () => {
    const b = { jsonBytes: 10_000, binaryBytes: 3136 };
    assert.equal(bodyLimit(b), 10_000);
    assert.equal(bodyLimit(b, 120), 120 + 3136);
    assert.equal(bodyLimit(b, 50_000), 10_000 + 3136);
  });

  it('checkBodySize: 413 past the bound, nothing without one', () => {
    const b = { jsonBytes: 100, binaryBytes: 8 };
    checkBodySize(100, b, undefined, 'm');
    checkBodySize(1e9, undefined, undefined, 'm');
    assert.throws(
      () => checkBodySize(109, b, 100, 'm'),
      (e: unknown) =>
        e instanceof FlotillaError &&
        e.code === 'FLT_BODY_TOO_LARGE' &&
        e.httpStatus === 413 &&
        /109 bytes exceeds the 108 bytes model "m" can need/.test(e.message),
    );
  });
});

describe('the HTTP server bodyLimit hook', () => {
  const targets: [string, string, ReturnType<typeof inferenceTarget>][] = [
    ['POST', '/v2/models/mnist/infer', { model: 'mnist', oip: true }],
    ['POST', '/v2/models/mnist/versions/2/infer', { model: 'mnist', version: '2', oip: true }],
    ['POST', '/v1/models/mnist:predict', { model: 'mnist', oip: false }],
    ['POST', '/v1/models/mnist/versions/3:predict', { model: 'mnist', version: '3', oip: false }],
    ['POST', '/mnist/prediction', { model: 'mnist', oip: false }],
    ['GET', '/v2/models/mnist/infer', undefined],
    ['POST', '/v2/models/mnist', undefined],
    ['POST', '/v2/models//infer', undefined],
    ['POST', '/v2/repository/models/mnist/load', undefined],
    ['POST', '/v1/models/mnist:classify', undefined],
    ['POST', '/v2/health/live', undefined],
  ];
  for (const [method, path, expected] of targets) {
    it(`${method} ${path} -> ${expected ? JSON.stringify(expected) : 'no model'}`, () =>
      assert.deepEqual(inferenceTarget(method, path), expected));
  }

  it('looks the bounds up by model and version, clamps to maxBodyBytes, and reads the header length', () => {
    const seen: [string, string | undefined][] = [];
    const limit = modelBodyLimit((model, version) => {
      seen.push([model, version]);
      return model === 'big'
        ? { jsonBytes: 1e9, binaryBytes: 0 }
        : model === 'm'
          ? { jsonBytes: 1000, binaryBytes: 40 }
          : undefined;
    }, 5000);
    const head = (path: string, headers: Record<string, string> = {}) => ({ method: 'POST', path, headers });
    assert.equal(limit(head('/v2/models/m/infer')), 1000);
    assert.equal(
      limit(head('/v2/models/m/versions/7/infer', { 'inference-header-content-length': '100' })),
      140,
    );
    // A header that is not a byte count gets the JSON bound (the route refuses it).
    assert.equal(limit(head('/v2/models/m/infer', { 'inference-header-content-length': '1e2' })), 1000);
    // TF Serving and Paddle bodies are JSON whatever the headers say.
    assert.equal(limit(head('/v1/models/m:predict', { 'inference-header-content-length': '100' })), 1000);
    assert.equal(limit(head('/v2/models/big/infer')), 5000);
    assert.equal(limit(head('/v2/models/free/infer')), undefined);
    assert.equal(limit(head('/v2/health/live')), undefined);
    assert.deepEqual(seen, [
      ['m', undefined],
      ['m', '7'],
      ['m', undefined],
      ['m', undefined],
      ['big', undefined],
      ['free', undefined],
    ]);
  });

  // Issue 19, smaller items: Number() took "", "1e2" and "0x10" as byte counts.
  const lengths: [string | string[], number | undefined][] = [
    ['0', 0],
    ['120', 120],
    ['000120', 120],
    ['999999999999999', 999_999_999_999_999],
    ['', undefined],
    ['1e2', undefined],
    ['0x10', undefined],
    [' 12', undefined],
    ['12 ', undefined],
    ['-1', undefined],
    ['1.5', undefined],
    ['+5', undefined],
    ['9999999999999999', undefined],
    [['1', '2'], undefined],
  ];
  for (const [raw, expected] of lengths) {
    it(`Inference-Header-Content-Length ${JSON.stringify(raw)} -> ${expected}`, () =>
      assert.equal(inferenceHeaderLength({ 'inference-header-content-length': raw }), expected));
  }
});
