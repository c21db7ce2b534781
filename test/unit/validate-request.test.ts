import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError, type Tensor } from '../../src/core/index.js';
import { checkInputs, shapeAccepts, validateRequest } from '../../src/server/index.js';

const model = {
  name: 'm',
  inputs: [
    { name: 'a', datatype: 'FP32' as const, shape: [-1, 3] },
    { name: 'b', datatype: 'INT64' as const, shape: [-1] },
  ],
  outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [-1, 2] }],
};
const a = (shape: number[]): Tensor => ({
  name: 'a',
  datatype: 'FP32',
  shape,
  data: new Float32Array(shape.reduce((x, y) => x * y, 1)),
});
const b = (n: number): Tensor => ({ name: 'b', datatype: 'INT64', shape: [n], data: new BigInt64Array(n) });

describe('validateRequest', () => {
  it('orders inputs as the model declares them and defaults to every output', () => {
    const v = validateRequest({ model: 'm', inputs: [b(2), a([2, 3])] }, model, 8);
    assert.deepEqual(
      v.inputs.map((t) => t.name),
      ['a', 'b'],
    );
    assert.deepEqual(v.outputs, ['y']);
    assert.equal(v.batchSize, 2);
  });
  const cases: { name: string; inputs: Tensor[]; outputs?: string[]; code: string; message: RegExp }[] = [
    {
      name: 'missing input',
      inputs: [a([1, 3])],
      code: 'FLT_MISSING_INPUT',
      message: /input "b" is missing/,
    },
    {
      name: 'unknown input',
      inputs: [a([1, 3]), b(1), { ...b(1), name: 'c' }],
      code: 'FLT_UNKNOWN_INPUT',
      message: /input "c" is not an input of model "m"/,
    },
    {
      name: 'duplicate input',
      inputs: [a([1, 3]), a([1, 3]), b(1)],
      code: 'FLT_INVALID_FIELD',
      message: /"a" is given twice/,
    },
    {
      name: 'datatype',
      inputs: [{ name: 'a', datatype: 'FP64', shape: [1, 3], data: new Float64Array(3) }, b(1)],
      code: 'FLT_DATATYPE_MISMATCH',
      message: /datatype FP64 but model "m" takes FP32/,
    },
    {
      name: 'rank',
      inputs: [a([3]), b(1)],
      code: 'FLT_SHAPE_MISMATCH',
      message: /shape \[3\] but model "m" takes \[-1,3\]/,
    },
    { name: 'fixed dim', inputs: [a([1, 4]), b(1)], code: 'FLT_SHAPE_MISMATCH', message: /\[1,4\]/ },
    {
      name: 'batch',
      inputs: [a([9, 3]), b(9)],
      code: 'FLT_BATCH_TOO_LARGE',
      message: /batch dimension 9 exceeds max_batch_size 8/,
    },
    {
      name: 'unknown output',
      inputs: [a([1, 3]), b(1)],
      outputs: ['z'],
      code: 'FLT_UNKNOWN_OUTPUT',
      message: /output "z"/,
    },
  ];
  for (const c of cases) {
    it(`rejects: ${c.name}`, () => {
      assert.throws(
        () =>
          validateRequest(
            {
              model: 'm',
              inputs: c.inputs,
              ...(c.outputs ? { outputs: c.outputs.map((name) => ({ name })) } : {}),
            },
            model,
            8,
          ),
        (e: unknown) =>
          e instanceof FlotillaError &&
          e.code === c.code &&
          c.message.test(e.message) &&
          e.httpStatus === 400,
      );
    });
  }
  // Issue 19, finding 1: the same rules run on names, datatypes and shapes alone, before the
  // front ends decode any data; a request that claims 4M elements needs none of them read.
  for (const c of cases.filter((x) => !x.outputs)) {
    it(`checkInputs, before any data exists, rejects: ${c.name}`, () => {
      const heads = c.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape }));
      assert.throws(
        () => checkInputs(heads, { name: 'm', inputs: model.inputs, maxBatchSize: 8 }),
        (e: unknown) => e instanceof FlotillaError && e.code === c.code && c.message.test(e.message),
      );
    });
  }
  it('checkInputs returns the batch size (1 without batching)', () => {
    const heads = [
      { name: 'b', datatype: 'INT64' as const, shape: [4] },
      { name: 'a', datatype: 'FP32' as const, shape: [4, 3] },
    ];
    assert.equal(checkInputs(heads, { name: 'm', inputs: model.inputs, maxBatchSize: 8 }), 4);
    assert.equal(checkInputs(heads, { name: 'm', inputs: model.inputs, maxBatchSize: 0 }), 1);
    assert.throws(
      () =>
        checkInputs([{ name: 'a', datatype: 'BYTES', shape: [4194304] }], {
          name: 'm',
          inputs: model.inputs,
          maxBatchSize: 8,
        }),
      /input "a": datatype BYTES but model "m" takes FP32/,
    );
  });
  it('shapeAccepts', () => {
    assert.equal(shapeAccepts([-1, 2], [5, 2]), true);
    assert.equal(shapeAccepts([-1, 2], [5, 3]), false);
    assert.equal(shapeAccepts([], []), true);
  });
});
