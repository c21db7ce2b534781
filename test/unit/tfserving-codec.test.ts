import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError, type InferResponse, type Tensor, type TensorSpec } from '../../src/core/index.js';
import {
  decodePredictRequest,
  encodeModelMetadata,
  encodeModelStatus,
  encodePredictResponse,
  type ModelSignature,
  type PredictFormat,
  parseTfJson,
} from '../../src/protocol/tfserving/index.js';

const spec = (name: string, datatype: TensorSpec['datatype'], shape: number[]): TensorSpec => ({
  name,
  datatype,
  shape,
});

/** One FP32 input, one output. */
const ONE: ModelSignature = { inputs: [spec('x', 'FP32', [-1, 2])], outputs: [spec('y', 'FP32', [-1])] };
/** Two inputs of different datatypes. */
const TWO: ModelSignature = {
  inputs: [spec('a', 'FP32', [-1]), spec('b', 'INT32', [-1, 2])],
  outputs: [spec('c', 'FP32', [-1])],
};
const BYTES: ModelSignature = { inputs: [spec('s', 'BYTES', [-1])], outputs: [spec('n', 'INT32', [-1])] };
const LONG: ModelSignature = { inputs: [spec('i', 'INT64', [-1])], outputs: [] };

const body = (value: unknown): Buffer =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const plain = (t: Tensor): { name: string; datatype: string; shape: readonly number[]; data: unknown[] } => ({
  name: t.name,
  datatype: t.datatype,
  shape: t.shape,
  data: t.datatype === 'BYTES' ? t.data.map((b) => [...b]) : Array.from(t.data as ArrayLike<unknown>),
});

interface DecodeCase {
  readonly name: string;
  readonly signature: ModelSignature;
  readonly body: unknown;
  readonly format: PredictFormat;
  readonly inputs: ReturnType<typeof plain>[];
}

const decodeCases: DecodeCase[] = [
  {
    name: 'row, one input, plain values (a batch of 2 rows)',
    signature: ONE,
    body: {
      instances: [
        [1, 2],
        [3, 4],
      ],
    },
    format: 'row',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }],
  },
  {
    name: 'row, one input, named objects',
    signature: ONE,
    body: { signature_name: 'serving_default', instances: [{ x: [1, 2] }] },
    format: 'row',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
  },
  {
    name: 'row, several inputs, datatypes from the signature',
    signature: TWO,
    body: {
      instances: [
        { a: 1, b: [1, 2] },
        { a: 2, b: [3, 4] },
      ],
    },
    format: 'row',
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [2], data: [1, 2] },
      { name: 'b', datatype: 'INT32', shape: [2, 2], data: [1, 2, 3, 4] },
    ],
  },
  {
    name: 'row, nested 3-D rows',
    signature: ONE,
    body: {
      instances: [
        [[1], [2]],
        [[3], [4]],
      ],
    },
    format: 'row',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2, 1], data: [1, 2, 3, 4] }],
  },
  {
    name: 'row, BYTES as strings and b64 objects',
    signature: BYTES,
    body: { instances: ['hé', { b64: 'AAH/' }] },
    format: 'row',
    inputs: [
      {
        name: 's',
        datatype: 'BYTES',
        shape: [2],
        data: [
          [104, 195, 169],
          [0, 1, 255],
        ],
      },
    ],
  },
  {
    name: 'row, INT64 as BigInt',
    signature: LONG,
    body: { instances: [9007199254740991, -1] },
    format: 'row',
    inputs: [{ name: 'i', datatype: 'INT64', shape: [2], data: [9007199254740991n, -1n] }],
  },
  {
    name: 'columnar, one input, plain value',
    signature: ONE,
    body: { inputs: [[1, 2]] },
    format: 'columnar',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
  },
  {
    name: 'columnar, one input, scalar',
    signature: ONE,
    body: { inputs: 5 },
    format: 'columnar',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [], data: [5] }],
  },
  {
    name: 'columnar, one input, a b64 object is a value not a name',
    signature: BYTES,
    body: { inputs: [{ b64: 'aGk=' }] },
    format: 'columnar',
    inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: [[104, 105]] }],
  },
  {
    name: 'columnar, several inputs of different batch sizes',
    signature: TWO,
    body: { inputs: { a: [1, 2, 3], b: [[5, 6]] } },
    format: 'columnar',
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [3], data: [1, 2, 3] },
      { name: 'b', datatype: 'INT32', shape: [1, 2], data: [5, 6] },
    ],
  },
];

describe('TF Serving predict request', () => {
  for (const c of decodeCases) {
    it(c.name, () => {
      const { request, format } = decodePredictRequest(
        body(c.body),
        { model: 'm', version: '3' },
        c.signature,
      );
      assert.equal(format, c.format);
      assert.equal(request.model, 'm');
      assert.equal(request.version, '3');
      assert.equal(request.outputs, undefined);
      assert.deepEqual(request.inputs.map(plain), c.inputs);
    });
  }
});

// [name, body, code, message, signature (default ONE)]
const badCases: [string, unknown, string, RegExp, ModelSignature?][] = [
  ['malformed JSON', '{"instances": [', 'FLT_INVALID_JSON', /not valid JSON/],
  ['not an object', [1], 'FLT_INVALID_FIELD', /\(top level\): expected a JSON object/],
  [
    'neither instances nor inputs',
    { data: [1] },
    'FLT_INVALID_FIELD',
    /instances, inputs: one of them is required/,
  ],
  [
    'both',
    { instances: [[1, 2]], inputs: [[1, 2]] },
    'FLT_INVALID_FIELD',
    /instances, inputs: give one of them, not both/,
  ],
  ['empty instances', { instances: [] }, 'FLT_INVALID_FIELD', /instances: must be a non-empty list/],
  [
    'other signature',
    { signature_name: 'classify', instances: [[1, 2]] },
    'FLT_UNKNOWN_SIGNATURE',
    /signature_name: "classify" is not a signature of model "m" \(it has only "serving_default"\)/,
  ],
  [
    'instances of inconsistent shapes',
    { instances: [[1, 2], [3]] },
    'FLT_INVALID_FIELD',
    /instances\[1\]: shape \[1\] differs from instances\[0\]'s \[2\]/,
  ],
  [
    'ragged list inside an instance',
    { instances: [[[1, 2], [3]]] },
    'FLT_INVALID_FIELD',
    /instances\[0\]\[1\]: has 1 elements but the first list at this depth has 2/,
  ],
  [
    'nested too deep',
    { inputs: JSON.parse(`${'['.repeat(40)}1${']'.repeat(40)}`) },
    'FLT_INVALID_FIELD',
    /inputs: lists nested deeper than 2, the rank of input "x" of model "m"/,
  ],
  [
    'value for a list',
    { inputs: [[1, 2], 3] },
    'FLT_INVALID_FIELD',
    /inputs\[1\]: a value where a list of 2 was expected/,
  ],
  [
    'wrong value type, with its nested path',
    {
      inputs: [
        [1, 2],
        [3, 'x'],
      ],
    },
    'FLT_INVALID_FIELD',
    /inputs\[1\]\[1\]: FP32 elements must be numbers, got "x"/,
  ],
  [
    'integer out of range',
    { instances: [{ a: 1, b: [1, 2.5] }] },
    'FLT_INVALID_FIELD',
    /instances\[0\]\.b\[1\]: INT32 elements must be integers/,
    TWO,
  ],
  [
    'BYTES element that is a number',
    { instances: ['a', 5] },
    'FLT_INVALID_FIELD',
    /instances\[1\]: BYTES elements must be strings or \{"b64": "…"\} objects, got 5/,
    BYTES,
  ],
  [
    'bad base64',
    { instances: [{ b64: 'no!' }] },
    'FLT_INVALID_FIELD',
    /instances\[0\]\.b64: "no!" is not valid base64/,
    BYTES,
  ],
  [
    'plain instances for a model with several inputs',
    { instances: [1, 2] },
    'FLT_INVALID_FIELD',
    /instances: a list of plain values needs a model with one input; model "m" has 2 \(a, b\)/,
    TWO,
  ],
  [
    'instances mixing objects and values',
    { instances: [{ x: [1, 2] }, [1, 2]] },
    'FLT_INVALID_FIELD',
    /instances\[1\]: expected an object \{input_name: value\} like instances\[0\]/,
  ],
  [
    'unknown input in an instance',
    { instances: [{ a: 1, b: [1, 2], z: 0 }] },
    'FLT_UNKNOWN_INPUT',
    /instances\[0\]: input "z" is not an input of model "m" \(inputs: a, b\)/,
    TWO,
  ],
  [
    'instance missing an input',
    { instances: [{ a: 1, b: [1, 2] }, { a: 2 }] },
    'FLT_MISSING_INPUT',
    /instances\[1\]: input "b" is missing/,
    TWO,
  ],
  [
    'unknown columnar input',
    { inputs: { a: [1], z: [1] } },
    'FLT_UNKNOWN_INPUT',
    /inputs: input "z" is not an input of model "m"/,
    TWO,
  ],
  [
    'plain columnar value, several inputs',
    { inputs: [1, 2] },
    'FLT_INVALID_FIELD',
    /inputs: a plain value or list needs a model with one input/,
    TWO,
  ],
];

describe('TF Serving predict request: bad input', () => {
  for (const [name, value, code, message, signature] of badCases) {
    it(name, () => {
      assert.throws(
        () => decodePredictRequest(body(value), { model: 'm' }, signature ?? ONE),
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

const response = (outputs: Tensor[]): InferResponse => ({ model: 'm', version: '1', outputs });
const probs: Tensor = {
  name: 'probs',
  datatype: 'FP32',
  shape: [2, 2],
  data: new Float32Array([0.5, 1, -2, 0]),
};
const label: Tensor = {
  name: 'label',
  datatype: 'BYTES',
  shape: [2],
  data: [Buffer.from('seven'), Buffer.from('é')],
};
const raw: Tensor = {
  name: 'raw',
  datatype: 'BYTES',
  shape: [2],
  data: [Buffer.from([0xff]), Buffer.from('a')],
};
const named: Tensor = { name: 'img_bytes', datatype: 'BYTES', shape: [1], data: [Buffer.from('hi')] };
const flags: Tensor = { name: 'ok', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) };
const big: Tensor = { name: 'n', datatype: 'INT64', shape: [2], data: new BigInt64Array([2n ** 60n, -1n]) };
const scalar: Tensor = { name: 's', datatype: 'FP64', shape: [], data: new Float64Array([Number.NaN]) };
const infinities: Tensor = {
  name: 'i',
  datatype: 'FP32',
  shape: [3],
  data: new Float32Array([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5]),
};

const encodeCases: [string, Tensor[], PredictFormat, string][] = [
  ['row, one output: a list of rows', [probs], 'row', '{"predictions":[[0.5,1],[-2,0]]}'],
  [
    'row, several outputs: a list of objects',
    [label, probs],
    'row',
    '{"predictions":[{"label":"seven","probs":[0.5,1]},{"label":"é","probs":[-2,0]}]}',
  ],
  [
    'row, BOOL and exact INT64',
    [flags, big],
    'row',
    '{"predictions":[{"ok":true,"n":1152921504606846976},{"ok":false,"n":-1}]}',
  ],
  ['columnar, one output: the value itself', [probs], 'columnar', '{"outputs":[[0.5,1],[-2,0]]}'],
  [
    'columnar, several outputs: an object',
    [flags, scalar],
    'columnar',
    // TF Serving writes non-finite floats as its JSON writer does: NaN, Infinity, -Infinity.
    '{"outputs":{"ok":[true,false],"s":NaN}}',
  ],
  [
    'Infinity and -Infinity as TF Serving writes them',
    [infinities],
    'columnar',
    '{"outputs":[Infinity,-Infinity,1.5]}',
  ],
  ['BYTES that are not UTF-8 as b64', [raw], 'columnar', '{"outputs":[{"b64":"/w=="},{"b64":"YQ=="}]}'],
  ['BYTES named *_bytes as b64 (TF rule)', [named], 'row', '{"predictions":[{"b64":"aGk="}]}'],
];

describe('TF Serving predict response', () => {
  for (const [name, outputs, format, expected] of encodeCases) {
    it(name, () => {
      const text = encodePredictResponse(response(outputs), format);
      assert.equal(text, expected);
      parseTfJson(text);
    });
  }
  it('refuses the row format when outputs disagree on the batch size', () => {
    const other: Tensor = { name: 'z', datatype: 'FP32', shape: [3], data: new Float32Array(3) };
    assert.throws(() => encodePredictResponse(response([probs, other]), 'row'), /output "z" has 3 rows/);
    assert.throws(() => encodePredictResponse(response([scalar]), 'row'), /output "s" is a scalar/);
  });
});

describe('TF Serving model status and metadata', () => {
  const versions = [
    { version: 3, state: 'loading' as const, reason: undefined },
    { version: 2, state: 'ready' as const, reason: undefined },
    { version: 1, state: 'failed' as const, reason: 'bad file' },
  ];
  it('maps every state, failed to END with its reason', () => {
    assert.deepEqual(encodeModelStatus('m', versions), {
      model_version_status: [
        { version: '3', state: 'LOADING', status: { error_code: 'OK', error_message: '' } },
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '1', state: 'END', status: { error_code: 'UNKNOWN', error_message: 'bad file' } },
      ],
    });
    assert.deepEqual(
      encodeModelStatus('m', [{ version: 4, state: 'unloading' }]).model_version_status[0]!.state,
      'UNLOADING',
    );
  });
  it('selects one version, or 404s naming the versions held', () => {
    assert.equal(encodeModelStatus('m', versions, 2).model_version_status.length, 1);
    assert.throws(
      () => encodeModelStatus('m', versions, 9),
      (err: unknown) =>
        err instanceof FlotillaError &&
        err.code === 'FLT_VERSION_NOT_FOUND' &&
        /versions: 1, 2, 3/.test(err.message),
    );
  });
  it('describes the serving_default signature with TF dtypes and string sizes', () => {
    assert.deepEqual(encodeModelMetadata({ name: 'm', version: '2', ...TWO }), {
      model_spec: { name: 'm', signature_name: '', version: '2' },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: {
              inputs: {
                a: {
                  dtype: 'DT_FLOAT',
                  tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
                  name: 'a',
                },
                b: {
                  dtype: 'DT_INT32',
                  tensor_shape: {
                    dim: [
                      { size: '-1', name: '' },
                      { size: '2', name: '' },
                    ],
                    unknown_rank: false,
                  },
                  name: 'b',
                },
              },
              outputs: {
                c: {
                  dtype: 'DT_FLOAT',
                  tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
                  name: 'c',
                },
              },
              method_name: 'tensorflow/serving/predict',
            },
          },
        },
      },
    });
  });
});

describe('TF Serving JSON with NaN, Infinity and -Infinity', () => {
  it('reads the tokens where values stand, as TF Serving (rapidjson kParseNanAndInfFlag) does', () => {
    assert.deepEqual(parseTfJson('{"inputs": [NaN, Infinity, -Infinity, 1]}'), {
      inputs: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1],
    });
    assert.deepEqual(parseTfJson('[[NaN],[ Infinity ],\n[-Infinity]]'), [
      [Number.NaN],
      [Number.POSITIVE_INFINITY],
      [Number.NEGATIVE_INFINITY],
    ]);
  });
  it('leaves the tokens inside strings as text', () => {
    assert.deepEqual(parseTfJson('{"a": "NaN", "b": "x\\"NaN", "c": NaN}'), {
      a: 'NaN',
      b: 'x"NaN',
      c: Number.NaN,
    });
  });
  it('refuses what JSON refuses, and tokens glued to others, with the JSON error of the body as sent', () => {
    for (const text of ['[NaNa]', '[Infinityy]', '[-NaN]', '[nan]', '[NaN', '{NaN: 1}', '[1,]']) {
      assert.throws(
        () => parseTfJson(text),
        (e: FlotillaError) => e.code === 'FLT_INVALID_JSON' && /not valid JSON/.test(e.message),
        text,
      );
    }
  });
  it('refuses a body where a NaN could not be told from a string holding the marker', () => {
    assert.throws(() => parseTfJson('["\\u0000NaN", NaN]'), /not valid JSON/);
    // Without a NaN token the same string is plain text.
    assert.deepEqual(parseTfJson('["\\u0000NaN", Infinity]'), ['\u0000NaN', Number.POSITIVE_INFINITY]);
  });
  it('decodes a predict body with the tokens into FP32 data', () => {
    const { request } = decodePredictRequest(
      Buffer.from('{"instances": [[NaN, Infinity, -Infinity]]}'),
      { model: 'm' },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], outputs: [] },
    );
    assert.deepEqual(Array.from(request.inputs[0]!.data as Float32Array), [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
  });
  it('keeps refusing the tokens for integer inputs', () => {
    assert.throws(
      () =>
        decodePredictRequest(
          Buffer.from('{"instances": [[NaN]]}'),
          { model: 'm' },
          { inputs: [{ name: 'x', datatype: 'INT32', shape: [-1, 1] }], outputs: [] },
        ),
      /INT32 elements must be integers/,
    );
  });
});
