import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbImage } from '../../examples/pipelines/ocr/image-ops.js';
import { ocrSettings } from '../../examples/pipelines/ocr/settings.js';
import { classify, widthBatches } from '../../examples/pipelines/ocr/stages.js';
import type { Tensor } from '../../src/core/index.js';
import type { JsModelContext } from '../../src/server/backends/index.js';

/** A line image whose every byte is `fill` (so a test can tell lines and windows apart). */
const line = (width: number, height = 48, fill = 0): RgbImage => ({
  width,
  height,
  channels: 3,
  data: new Uint8Array(width * height * 3).fill(fill),
});

/** A context whose classifier answers P(upside down) by the window's first pixel. */
function fakeClassifier(upsideDown: (firstByte: number) => number, batches: number[]): JsModelContext {
  return {
    model: 'ocr',
    version: 1,
    modelDir: '',
    versionDir: '',
    parameters: {},
    labels: undefined,
    resolve: (f) => f,
    async infer(model, inputs) {
      assert.equal(model, 'ocr_cls');
      const x = inputs['x']!;
      const [n = 0, , h = 0, w = 0] = x.shape;
      batches.push(n);
      const data = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        // Undo the [-1, 1] scaling of the window's first value (its blue channel).
        const p = upsideDown(Math.round(((x.data as Float32Array)[i * 3 * h * w]! + 1) * 127.5));
        data.set([1 - p, p], i * 2);
      }
      const probs: Tensor = { name: 'softmax', datatype: 'FP32', shape: [n, 2], data };
      return { softmax: probs };
    },
  };
}

describe('ocr batches', () => {
  it('groups lines of similar width for the recogniser, narrowest first, at most maxBatch', () => {
    // At height 48: 100, 250/40 and 300 pad to 320 anyway; 400 is within 1.3 ×; 500 and 900 are not.
    const lines = [line(900), line(100), line(400), line(250, 40), line(500), line(300)];
    assert.deepEqual(widthBatches(lines, 6), [[1, 3, 5, 2], [4], [0]]);
    assert.deepEqual(widthBatches(lines, 2), [[1, 3], [5, 2], [4], [0]]);
    assert.deepEqual(widthBatches([], 6), []);
  });

  it('turns a line the classifier is sure is upside down, judging long lines by their windows', async () => {
    const settings = ocrSettings({ cls_batch: 2 });
    const batches: number[] = [];
    // Line 0 (fill 10): 0.95 upside down. Line 1 (fill 20): 0.7, unsure. Line 2 is long (3
    // windows, fill 30): 0.99 each. Line 3 is long (fill 40): windows disagree, mean below 0.9.
    const p: Record<number, number> = { 10: 0.95, 20: 0.7, 30: 0.99, 40: 0.6 };
    const lines = [line(100, 48, 10), line(100, 48, 20), line(500, 48, 30), line(500, 48, 40)];
    const out = await classify(
      lines,
      fakeClassifier((b) => p[b]!, batches),
      settings,
    );
    assert.deepEqual(
      out.map((l, i) => l !== lines[i]),
      [true, false, true, false],
    );
    assert.deepEqual(
      out.map((l) => [l.width, l.height]),
      lines.map((l) => [l.width, l.height]),
    );
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      2 + 3 + 3,
    );
    assert.ok(batches.every((n) => n <= 2));
  });
});
