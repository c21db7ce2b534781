import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbImage } from '../../examples/pipelines/ocr/image-ops.js';
import {
  CLS_WIDTH,
  clsWindows,
  detInputSize,
  detTensor,
  LINE_HEIGHT,
  lineBatch,
  lineWidth,
  recBatchWidth,
} from '../../examples/pipelines/ocr/tensors.js';

/** A w × h image of one colour. */
const solid = (width: number, height: number, rgb: readonly [number, number, number]): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, channels: 3, data };
};

describe('ocr tensors', () => {
  const sizes: [w: number, h: number, limit: number, want: [number, number]][] = [
    [640, 480, 960, [640, 480]],
    [1920, 1080, 960, [960, 544]], // 1080 × 0.5 = 540 -> 544
    [100, 20, 960, [96, 32]], // never scaled up; at least 32
    [10, 10, 960, [32, 32]],
    [3000, 100, 960, [960, 32]],
    [500, 700, 960, [512, 704]],
  ];
  for (const [w, h, limit, [ww, wh]] of sizes) {
    it(`detector input for ${w}×${h} is ${ww}×${wh}`, () => {
      assert.deepEqual(detInputSize(w, h, limit), { width: ww, height: wh });
    });
  }

  it('detector tensor is CHW, blue first, ImageNet-normalised', () => {
    const t = detTensor(solid(2, 1, [255, 0, 51]));
    const plane = 2;
    assert.ok(Math.abs(t[0]! - (0.2 - 0.485) / 0.229) < 1e-6, 'channel 0 is blue (51/255)');
    assert.ok(Math.abs(t[plane]! - (0 - 0.456) / 0.224) < 1e-6, 'channel 1 is green');
    assert.ok(Math.abs(t[2 * plane]! - (1 - 0.406) / 0.225) < 1e-6, 'channel 2 is red');
  });

  it('line widths keep the aspect ratio at height 48, capped', () => {
    assert.equal(lineWidth(solid(100, 24, [0, 0, 0]), 192), 192);
    assert.equal(lineWidth(solid(50, 24, [0, 0, 0]), 192), 100);
    assert.equal(recBatchWidth([solid(50, 24, [0, 0, 0])]), 320, 'at least 320');
    assert.equal(recBatchWidth([solid(50, 24, [0, 0, 0]), solid(400, 20, [0, 0, 0])]), 960);
  });

  it('line batches scale to [-1, 1] in BGR and pad with zeros on the right', () => {
    const width = 200;
    const batch = lineBatch([solid(48, 48, [255, 0, 0]), solid(96, 24, [0, 255, 255])], width);
    const plane = LINE_HEIGHT * width;
    assert.equal(batch.length, 2 * 3 * plane);
    // First line: 48 px wide, red: B = -1, R = 1, padding 0 from x = 48.
    assert.equal(batch[0], -1);
    assert.equal(batch[2 * plane], 1);
    assert.equal(batch[47], -1);
    assert.equal(batch[48], 0);
    // Second line: 192 px wide at height 48, cyan: B = 1, R = -1.
    const second = 3 * plane;
    assert.equal(batch[second + 191], 1);
    assert.equal(batch[second + 192], 0);
    assert.equal(batch[second + 2 * plane + 10 * width + 5], -1);
  });

  it('the classifier sees short lines whole and long ones in windows that cover them', () => {
    assert.equal(clsWindows(solid(200, 48, [0, 0, 0])).length, 1);
    assert.equal(clsWindows(solid(280, 48, [0, 0, 0])).length, 1, 'a 1.5× squeeze is fine');
    const windows = clsWindows(solid(600, 30, [0, 0, 0]));
    assert.equal(windows.length, Math.ceil((600 * 48) / 30 / CLS_WIDTH));
    for (const w of windows) assert.deepEqual([w.width, w.height], [120, 30]);
  });
});
