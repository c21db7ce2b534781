import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToStrings, type Tensor } from '../../src/core/index.js';
import { applyClassification, checkClassification, classify } from '../../src/server/classification.js';

const scores: Tensor = {
  name: 'probs',
  datatype: 'FP32',
  shape: [2, 4],
  data: Float32Array.from([0.1, 0.5, 0.25, 0.15, 0.4, 0.4, 0.05, 0.15]),
};

describe("Triton's classification extension", () => {
  it('answers the top k of every row, best first, ties by lower index, with labels', () => {
    const t = classify(scores, 2, ['a', 'b', 'c', 'd'], true);
    assert.deepEqual([t.datatype, t.shape], ['BYTES', [2, 2]]);
    assert.deepEqual(bytesToStrings(t.data as Uint8Array[]), [
      '0.500000:1:b',
      '0.250000:2:c',
      '0.400000:0:a',
      '0.400000:1:b',
    ]);
  });

  it('leaves the label out when there is none, and treats an unbatched output as one row', () => {
    const t = classify({ ...scores, shape: [8] }, 1, undefined, false);
    assert.deepEqual([t.shape, bytesToStrings(t.data as Uint8Array[])], [[1], ['0.500000:1']]);
  });

  it('refuses k beyond the class count, before the model runs and after', () => {
    const spec = [{ name: 'probs', datatype: 'FP32' as const, shape: [-1, 4] }];
    assert.throws(
      () => checkClassification([{ name: 'probs', parameters: { classification: 5 } }], spec, true),
      {
        code: 'FLT_INVALID_CLASSIFICATION',
        message: 'output "probs": classification 5 is larger than its 4 classes',
      },
    );
    assert.throws(() => classify(scores, 5, undefined, true), { code: 'FLT_INVALID_CLASSIFICATION' });
    assert.throws(
      () => checkClassification([{ name: 'probs', parameters: { class_count: -1 } }], spec, true),
      /class_count: -1 is not a positive integer/,
    );
  });

  it('passes outputs through untouched when no classification is asked', () => {
    const outs = [scores];
    assert.equal(
      applyClassification(outs, [{ name: 'probs', parameters: { binary_data: true } }], [], true)[0],
      scores,
    );
    assert.equal(applyClassification(outs, undefined, [], true), outs);
  });
});
