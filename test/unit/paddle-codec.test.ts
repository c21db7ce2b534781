import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError, type Tensor, type TensorSpec } from '../../src/core/index.js';
import {
  decodePredictionRequest,
  encodePredictionResponse,
  type PaddleModel,
} from '../../src/protocol/paddle/index.js';

const spec = (name: string, datatype: TensorSpec['datatype'], shape: number[]): TensorSpec => ({
  name,
  datatype,
  shape,
});

/** A batched model: one row is 3 numbers (like uci_housing's `x` with 13). */
const HOUSING: PaddleModel = {
  inputs: [spec('x', 'FP32', [-1, 3])],
  outputs: [spec('price', 'FP32', [-1, 1])],
};
/** Two inputs of any length, two outputs. */
const TWO: PaddleModel = {
  inputs: [spec('a', 'FP32', [-1]), spec('b', 'INT32', [-1])],
  outputs: [spec('c', 'FP32', [-1]), spec('d', 'BYTES', [-1])],
};
const MATRIX: PaddleModel = { inputs: [spec('m', 'FP32', [-1, -1])], outputs: [spec('n', 'FP32', [-1])] };
const WORDS: PaddleModel = {
  inputs: [spec('words', 'BYTES', [-1])],
  outputs: [spec('word_seg', 'BYTES', [-1])],
};

const body = (value: unknown): Buffer =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const plain = (t: Tensor): { name: string; shape: readonly number[]; data: unknown[] } => ({
  name: t.name,
  shape: t.shape,
  data:
    t.datatype === 'BYTES'
      ? t.data.map((b) => Buffer.from(b).toString('latin1'))
      : Array.from(t.data as ArrayLike<unknown>),
});

const cases: [string, PaddleModel, unknown, ReturnType<typeof plain>[], string[] | undefined][] = [
  [
    'one entry is one row: the batch dimension is added',
    HOUSING,
    { feed: [{ x: [1, 2, 3] }], fetch: ['price'] },
    [{ name: 'x', shape: [1, 3], data: [1, 2, 3] }],
    ['price'],
  ],
  [
    'several entries are a batch',
    HOUSING,
    { feed: [{ x: [1, 2, 3] }, { x: [4, 5, 6] }] },
    [{ name: 'x', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
    undefined,
  ],
  [
    'a value that already has the batch dimension is taken as is',
    HOUSING,
    {
      feed: [
        {
          x: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        },
      ],
      fetch: [],
    },
    [{ name: 'x', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
    undefined,
  ],
  [
    'full-shape entries join along the batch dimension',
    TWO,
    {
      feed: [
        { a: [1, 2], b: [3, 4] },
        { a: 5, b: 6 },
      ],
      fetch: ['d', 'c', 'd'],
    },
    [
      { name: 'a', shape: [3], data: [1, 2, 5] },
      { name: 'b', shape: [3], data: [3, 4, 6] },
    ],
    ['d', 'c'],
  ],
  [
    'BYTES: strings as UTF-8, b64 objects decoded',
    WORDS,
    { feed: [{ words: '我' }, { words: { b64: '/wA=' } }] },
    [{ name: 'words', shape: [2], data: [Buffer.from('我').toString('latin1'), '\xff\x00'] }],
    undefined,
  ],
];

cases.push([
  "feed as one object is one entry (as Paddle's client sends it)",
  HOUSING,
  { feed: { x: [1, 2, 3] }, fetch: ['price'] },
  [{ name: 'x', shape: [1, 3], data: [1, 2, 3] }],
  ['price'],
]);

describe('Paddle prediction request', () => {
  for (const [name, model, value, inputs, outputs] of cases) {
    it(name, () => {
      const req = decodePredictionRequest(body(value), { model: 'm' }, model);
      assert.equal(req.model, 'm');
      assert.equal(req.version, undefined);
      assert.deepEqual(req.inputs.map(plain), inputs);
      assert.deepEqual(
        req.outputs?.map((o) => o.name),
        outputs,
      );
    });
  }
});

const bad: [string, PaddleModel, unknown, string, RegExp][] = [
  ['malformed JSON', HOUSING, '{"feed": [', 'FLT_INVALID_JSON', /not valid JSON/],
  ['not an object', HOUSING, '"x"', 'FLT_INVALID_FIELD', /\(top level\): expected a JSON object/],
  [
    'no feed',
    HOUSING,
    { fetch: ['price'] },
    'FLT_INVALID_FIELD',
    /feed: must be an object \{input_name: value\} or a non-empty list/,
  ],
  [
    'feed neither an object nor a list',
    HOUSING,
    { feed: 'x' },
    'FLT_INVALID_FIELD',
    /feed: must be an object \{input_name: value\} or a non-empty list of them/,
  ],
  ['feed an empty object', HOUSING, { feed: {} }, 'FLT_INVALID_FIELD', /feed: feeds no input/],
  [
    'feed as one object names its inputs without an index',
    HOUSING,
    { feed: { y: [1, 2, 3] } },
    'FLT_UNKNOWN_INPUT',
    /^feed: input "y" is not an input/,
  ],
  [
    'feed entry not an object',
    HOUSING,
    { feed: [[1, 2, 3]] },
    'FLT_INVALID_FIELD',
    /feed\[0\]: must be an object/,
  ],
  [
    'unknown input',
    HOUSING,
    { feed: [{ y: [1, 2, 3] }] },
    'FLT_UNKNOWN_INPUT',
    /feed\[0\]: input "y" is not an input of model "m" \(inputs: x\)/,
  ],
  [
    'shape fitting neither the model nor a row',
    HOUSING,
    { feed: [{ x: [1, 2] }] },
    'FLT_SHAPE_MISMATCH',
    /feed\[0\]\.x: shape \[2\] fits neither input "x" of model "m" \[-1,3\] nor one row of it \[3\]/,
  ],
  [
    'a value of a rank the model cannot take',
    TWO,
    {
      feed: [
        { a: [1], b: [2] },
        { a: [[[1]]], b: [2] },
      ],
    },
    'FLT_INVALID_FIELD',
    /feed\[1\]\.a: lists nested deeper than 1, the rank of input "a" of model "m"/,
  ],
  [
    'entries of inconsistent shapes',
    MATRIX,
    { feed: [{ m: [1, 2] }, { m: [1, 2, 3] }] },
    'FLT_INVALID_FIELD',
    /feed\[1\]\.m: row shape \[3\] differs from feed\[0\]'s \[2\]/,
  ],
  [
    'entries feeding different inputs',
    TWO,
    { feed: [{ a: 1, b: 2 }, { a: 1 }] },
    'FLT_INVALID_FIELD',
    /feed\[1\]: feeds a but feed\[0\] feeds a, b/,
  ],
  [
    'wrong value type',
    HOUSING,
    { feed: [{ x: [1, '2', 3] }] },
    'FLT_INVALID_FIELD',
    /feed\[0\]\.x\[1\]: FP32 elements must be numbers, got "2"/,
  ],
  [
    'ragged value',
    HOUSING,
    { feed: [{ x: [[1, 2, 3], [4]] }] },
    'FLT_INVALID_FIELD',
    /feed\[0\]\.x\[1\]: has 1 elements/,
  ],
  [
    'unknown fetch',
    HOUSING,
    { feed: [{ x: [1, 2, 3] }], fetch: ['price', 'score'] },
    'FLT_UNKNOWN_OUTPUT',
    /fetch\[1\]: "score" is not an output of model "m" \(outputs: price\)/,
  ],
  [
    'fetch not a list',
    HOUSING,
    { feed: [{ x: [1, 2, 3] }], fetch: 'price' },
    'FLT_INVALID_FIELD',
    /fetch: must be a list/,
  ],
];

describe('Paddle prediction request: bad input', () => {
  for (const [name, model, value, code, message] of bad) {
    it(name, () => {
      assert.throws(
        () => decodePredictionRequest(body(value), { model: 'm' }, model),
        (err: unknown) => {
          assert.ok(err instanceof FlotillaError);
          assert.equal(err.code, code);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('Paddle prediction response', () => {
  it('writes each output shaped like the tensor, batch dimension included, BYTES as strings', () => {
    const text = encodePredictionResponse({
      model: 'm',
      version: '1',
      outputs: [
        { name: 'price', datatype: 'FP32', shape: [2, 1], data: new Float32Array([0.5, -1]) },
        { name: 'word_seg', datatype: 'BYTES', shape: [1], data: [Buffer.from('我|爱')] },
        { name: 'raw', datatype: 'BYTES', shape: [1], data: [Buffer.from([0xff])] },
        { name: 'n', datatype: 'INT64', shape: [], data: new BigInt64Array([7n]) },
      ],
    });
    assert.equal(text, '{"result":{"price":[[0.5],[-1]],"word_seg":["我|爱"],"raw":[{"b64":"/w=="}],"n":7}}');
  });
});
