import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Datatype, FlotillaError, Tensor } from '../../src/core/index.js';
import {
  decodeTensorValues,
  encodePredictResponse,
  headerDatatype,
  readModelSpecRequest,
  readPredictEnvelope,
  readPredictHeader,
} from '../../src/protocol/tfserving-grpc/index.js';
import { tfDecode, tfEncode } from '../helpers/tf-protos.js';

const LIMITS = { inputs: 3, outputs: 3 };

/** Encodes a PredictRequest (protobufjs, from TF Serving's protos) and reads its first input. */
function readInput(tensor: object): { datatype: Datatype; data: unknown; shape: readonly number[] } {
  const bytes = tfEncode('tensorflow.serving.PredictRequest', {
    model_spec: { name: 'm' },
    inputs: { x: tensor },
  });
  const header = readPredictHeader(readPredictEnvelope(bytes), LIMITS);
  const h = header.inputs[0]!;
  const datatype = headerDatatype(h);
  return { datatype, data: decodeTensorValues(h, datatype), shape: h.shape };
}

const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size })) });

/** Asserts reading `tensor` throws an error with `code` whose message matches. */
function refuses(tensor: object, code: string, message: RegExp): void {
  assert.throws(
    () => readInput(tensor),
    (e: FlotillaError) => {
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('TF Serving gRPC: PredictRequest envelope and model spec', () => {
  it('reads name, version, label (a oneof: the last wins) and signature', () => {
    const env = readPredictEnvelope(
      tfEncode('tensorflow.serving.PredictRequest', {
        model_spec: { name: 'mnist', version: { value: 3 }, signature_name: 'serving_default' },
        inputs: { a: { dtype: 'DT_FLOAT' }, b: { dtype: 'DT_FLOAT' } },
        output_filter: ['y'],
      }),
    );
    assert.deepEqual(
      [env.spec, env.hasSpec, env.inputs, env.outputFilter],
      [{ name: 'mnist', version: '3', label: undefined, signature: 'serving_default' }, true, 2, 1],
    );
    const labelled = readModelSpecRequest(
      tfEncode('tensorflow.serving.GetModelStatusRequest', {
        model_spec: { name: 'm', version_label: 'canary' },
      }),
      'GetModelStatusRequest',
      false,
    );
    assert.deepEqual(labelled.spec, { name: 'm', version: undefined, label: 'canary', signature: '' });
    assert.equal(readPredictEnvelope(new Uint8Array(0)).hasSpec, false);
  });

  it('refuses broken framing, duplicate map keys and duplicate output aliases', () => {
    assert.throws(
      () => readPredictEnvelope(Buffer.from([0x0a, 0x05, 0x0a])),
      /declares 5 bytes but 1 remain/,
    );
    // Two entries of the same key: protobuf would keep the last; no client sends that.
    const entry = tfEncode('tensorflow.serving.PredictRequest', { inputs: { x: { dtype: 'DT_FLOAT' } } });
    assert.throws(
      () => readPredictHeader(readPredictEnvelope(Buffer.concat([entry, entry])), LIMITS),
      /inputs: "x" is given twice/,
    );
    const twice = tfEncode('tensorflow.serving.PredictRequest', {
      inputs: { x: { dtype: 'DT_FLOAT' } },
      output_filter: ['y', 'y'],
    });
    assert.throws(
      () => readPredictHeader(readPredictEnvelope(twice), LIMITS),
      /duplicate output tensor alias: y/,
    );
  });

  it('reads no more entries than the limits, however many are sent', () => {
    const inputs = Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`x${i}`, { dtype: 'DT_FLOAT' }]),
    );
    const env = readPredictEnvelope(tfEncode('tensorflow.serving.PredictRequest', { inputs }));
    assert.equal(env.inputs, 1000);
    assert.equal(readPredictHeader(env, { inputs: 2, outputs: 2 }).inputs.length, 2);
  });
});

describe('TF Serving gRPC: TensorProto values', () => {
  const cases: [string, object, Datatype, unknown[]][] = [
    ['float_val', { dtype: 'DT_FLOAT', tensor_shape: shape(2), float_val: [0.5, -2] }, 'FP32', [0.5, -2]],
    ['double_val', { dtype: 'DT_DOUBLE', tensor_shape: shape(1), double_val: [0.1] }, 'FP64', [0.1]],
    ['int_val, negative', { dtype: 'DT_INT32', tensor_shape: shape(2), int_val: [-5, 7] }, 'INT32', [-5, 7]],
    [
      'int_val as INT8',
      { dtype: 'DT_INT8', tensor_shape: shape(2), int_val: [-128, 127] },
      'INT8',
      [-128, 127],
    ],
    ['int_val as UINT8', { dtype: 'DT_UINT8', tensor_shape: shape(1), int_val: [255] }, 'UINT8', [255]],
    [
      'int64_val, beyond 2^53',
      { dtype: 'DT_INT64', tensor_shape: shape(2), int64_val: ['-9223372036854775808', '9007199254740993'] },
      'INT64',
      [-9223372036854775808n, 9007199254740993n],
    ],
    [
      'uint64_val',
      { dtype: 'DT_UINT64', tensor_shape: shape(1), uint64_val: ['18446744073709551615'] },
      'UINT64',
      [18446744073709551615n],
    ],
    [
      'uint32_val',
      { dtype: 'DT_UINT32', tensor_shape: shape(1), uint32_val: [4294967295] },
      'UINT32',
      [4294967295],
    ],
    ['bool_val', { dtype: 'DT_BOOL', tensor_shape: shape(2), bool_val: [true, false] }, 'BOOL', [1, 0]],
    ['half_val (bits)', { dtype: 'DT_HALF', tensor_shape: shape(1), half_val: [0x3c00] }, 'FP16', [0x3c00]],
    [
      'tensor_content, little-endian',
      {
        dtype: 'DT_INT32',
        tensor_shape: shape(2),
        tensor_content: Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
      },
      'INT32',
      [1, -1],
    ],
    ['no shape: a scalar', { dtype: 'DT_FLOAT', float_val: [3] }, 'FP32', [3]],
  ];
  for (const [name, tensor, datatype, values] of cases) {
    it(name, () => {
      const got = readInput(tensor);
      assert.equal(got.datatype, datatype);
      assert.deepEqual(Array.from(got.data as ArrayLike<unknown>), values);
    });
  }

  it('string_val as BYTES', () => {
    const got = readInput({
      dtype: 'DT_STRING',
      tensor_shape: shape(2),
      string_val: [Buffer.from('hé'), Buffer.from([0xff])],
    });
    assert.deepEqual(
      (got.data as Uint8Array[]).map((b) => Buffer.from(b).toString('hex')),
      ['68c3a9', 'ff'],
    );
  });

  it('reads unpacked float values too (older encoders)', () => {
    // model_spec, then inputs { key: "x", value { dtype: DT_FLOAT, tensor_shape { dim { size: 2 } }, float_val, float_val } }.
    const f = (v: number) => {
      const b = Buffer.alloc(5);
      b[0] = (5 << 3) | 5;
      b.writeFloatLE(v, 1);
      return b;
    };
    const tensor = Buffer.concat([
      Buffer.from([0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x08, 0x02]),
      f(1.5),
      f(-3),
    ]);
    const entry = Buffer.concat([Buffer.from([0x0a, 0x01, 0x78, 0x12, tensor.length]), tensor]);
    const bytes = Buffer.concat([Buffer.from([0x12, entry.length]), entry]);
    const h = readPredictHeader(readPredictEnvelope(bytes), LIMITS).inputs[0]!;
    assert.deepEqual(Array.from(decodeTensorValues(h, 'FP32') as Float32Array), [1.5, -3]);
  });

  it('refuses values that do not fit the shape, the dtype or its range', () => {
    refuses(
      { dtype: 'DT_FLOAT', tensor_shape: shape(3), float_val: [1, 2] },
      'FLT_DATA_SIZE_MISMATCH',
      /has 2 values but shape \[3\] holds 3/,
    );
    refuses(
      { dtype: 'DT_FLOAT', tensor_shape: shape(2), tensor_content: Buffer.alloc(7) },
      'FLT_DATA_SIZE_MISMATCH',
      /tensor_content: has 7 bytes but shape \[2\] of DT_FLOAT holds 8 \(2 x 4\)/,
    );
    refuses(
      { dtype: 'DT_FLOAT', tensor_shape: shape(1), float_val: [1], tensor_content: Buffer.alloc(4) },
      'FLT_INVALID_FIELD',
      /not both/,
    );
    refuses(
      { dtype: 'DT_FLOAT', tensor_shape: shape(1), int_val: [1] },
      'FLT_INVALID_FIELD',
      /int_val: holds values but dtype DT_FLOAT takes float_val/,
    );
    refuses(
      { dtype: 'DT_INT8', tensor_shape: shape(1), int_val: [200] },
      'FLT_INVALID_FIELD',
      /200 is out of range for INT8/,
    );
    refuses(
      { dtype: 'DT_STRING', tensor_shape: shape(1), tensor_content: Buffer.from('a') },
      'FLT_INVALID_FIELD',
      /string_val, not tensor_content/,
    );
    refuses(
      { dtype: 'DT_BFLOAT16', tensor_shape: shape(1) },
      'FLT_INVALID_FIELD',
      /DT_BFLOAT16 is not served/,
    );
    refuses({ tensor_shape: shape(1), float_val: [1] }, 'FLT_INVALID_FIELD', /dtype: required/);
    refuses(
      { dtype: 'DT_FLOAT', tensor_shape: { dim: [], unknown_rank: true } },
      'FLT_INVALID_FIELD',
      /known shape/,
    );
  });

  it('refuses one value announced as a billion elements without allocating them', () => {
    // TensorFlow would fill the shape with the value: here the count must equal the shape's.
    const start = process.memoryUsage().arrayBuffers;
    refuses(
      { dtype: 'DT_FLOAT', tensor_shape: shape(1_000_000_000), float_val: [1] },
      'FLT_DATA_SIZE_MISMATCH',
      /has 1 values but shape \[1000000000\] holds 1000000000/,
    );
    assert.ok(process.memoryUsage().arrayBuffers - start < 50_000_000);
  });

  it('refuses a packed varint run that ends inside a varint', () => {
    // inputs { key: "x", value { dtype: DT_INT32, int_val: packed [0x80] } }
    const tensor = Buffer.from([0x08, 0x03, 0x3a, 0x01, 0x80]);
    const entry = Buffer.concat([Buffer.from([0x0a, 0x01, 0x78, 0x12, tensor.length]), tensor]);
    const bytes = Buffer.concat([Buffer.from([0x12, entry.length]), entry]);
    assert.throws(
      () => readPredictHeader(readPredictEnvelope(bytes), LIMITS),
      /int_val: ends inside a varint/,
    );
  });
});

describe('TF Serving gRPC: PredictResponse', () => {
  it('writes every datatype in its typed field, readable by a protobufjs client', () => {
    const outputs: Tensor[] = [
      { name: 'f', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.5, Number.NaN]) },
      { name: 'd', datatype: 'FP64', shape: [1], data: new Float64Array([0.1]) },
      { name: 'i', datatype: 'INT32', shape: [2], data: new Int32Array([-1, 2]) },
      { name: 'l', datatype: 'INT64', shape: [1], data: new BigInt64Array([-(2n ** 62n)]) },
      { name: 'u', datatype: 'UINT64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
      { name: 'b', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      { name: 'h', datatype: 'FP16', shape: [1], data: new Uint16Array([0x3c00]) },
      { name: 's', datatype: 'BYTES', shape: [1], data: [Buffer.from('seven')] },
      { name: 'e', datatype: 'FP32', shape: [0], data: new Float32Array(0) },
    ];
    const msg = tfDecode(
      'tensorflow.serving.PredictResponse',
      encodePredictResponse(outputs, { name: 'm', version: 3 }),
    ) as {
      model_spec: unknown;
      outputs: Record<string, Record<string, unknown> & { tensor_shape: { dim?: { size?: string }[] } }>;
    };
    assert.deepEqual(msg.model_spec, {
      name: 'm',
      version: { value: '3' },
      signature_name: 'serving_default',
    });
    const o = msg.outputs;
    assert.deepEqual(
      [o['f']!['dtype'], o['f']!.tensor_shape.dim!.map((d) => d.size)],
      ['DT_FLOAT', ['1', '2']],
    );
    assert.equal((o['f']!['float_val'] as number[])[0], 0.5);
    assert.ok(Number.isNaN((o['f']!['float_val'] as number[])[1]));
    assert.deepEqual(o['d']!['double_val'], [0.1]);
    assert.deepEqual(o['i']!['int_val'], [-1, 2]);
    assert.deepEqual(o['l']!['int64_val'], [String(-(2n ** 62n))]);
    assert.deepEqual(o['u']!['uint64_val'], ['18446744073709551615']);
    assert.deepEqual(o['b']!['bool_val'], [true, false]);
    assert.deepEqual([o['h']!['dtype'], o['h']!['half_val']], ['DT_HALF', [0x3c00]]);
    assert.deepEqual((o['s']!['string_val'] as Buffer[]).map(String), ['seven']);
    assert.deepEqual(o['e']!.tensor_shape.dim, [{}]);
  });
});
