import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cropBox,
  cropColumns,
  type RgbImage,
  resizeBilinear,
  rotateHalf,
  rotateQuarterCcw,
} from '../../examples/pipelines/ocr/image-ops.js';
import { readingOrder } from '../../examples/pipelines/ocr/reading-order.js';

/** A w × h image whose pixel (x, y) is [x, y, 7]. */
function ramp(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  return { width, height, channels: 3, data };
}

const px = (img: RgbImage, x: number, y: number): number[] => [
  ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];

describe('ocr image operations', () => {
  it('an axis-aligned box crops exactly its pixels', () => {
    const crop = cropBox(ramp(50, 40), [
      [10, 5],
      [30, 5],
      [30, 15],
      [10, 15],
    ]);
    assert.deepEqual([crop.width, crop.height], [20, 10]);
    assert.deepEqual(px(crop, 0, 0), [10, 5, 7]);
    assert.deepEqual(px(crop, 19, 9), [29, 14, 7]);
  });

  it('a turned box comes out straight', () => {
    // The box from (10, 30) rising to (40, 0): along it x grows as y falls.
    const crop = cropBox(ramp(64, 64), [
      [10, 30],
      [40, 0],
      [50, 10],
      [20, 40],
    ]);
    assert.equal(crop.width, Math.trunc(Math.hypot(30, 30)));
    assert.equal(crop.height, Math.trunc(Math.hypot(10, 10)));
    const first = px(crop, 0, 0);
    const last = px(crop, crop.width - 1, 0);
    assert.ok(last[0]! > first[0]! && last[1]! < first[1]!);
  });

  it('a tall crop turns a quarter counter-clockwise', () => {
    const crop = cropBox(ramp(50, 80), [
      [10, 10],
      [20, 10],
      [20, 60],
      [10, 60],
    ]);
    assert.deepEqual([crop.width, crop.height], [50, 10]);
    // Counter-clockwise: the top-right pixel of the box becomes the top-left.
    assert.deepEqual(px(crop, 0, 0), [19, 10, 7]);
    assert.deepEqual(px(crop, 49, 0), [19, 59, 7]);
  });

  it('rotations and column crops move pixels where they belong', () => {
    const img = ramp(4, 3);
    const q = rotateQuarterCcw(img);
    assert.deepEqual([q.width, q.height], [3, 4]);
    assert.deepEqual(px(q, 0, 0), [3, 0, 7]);
    assert.deepEqual(px(q, 2, 3), [0, 2, 7]);
    const h = rotateHalf(img);
    assert.deepEqual(px(h, 0, 0), [3, 2, 7]);
    assert.deepEqual(px(h, 3, 2), [0, 0, 7]);
    assert.deepEqual(px(cropColumns(img, 1, 2), 1, 2), [2, 2, 7]);
  });

  it('bilinear resize keeps a same-size image and interpolates a doubled one', () => {
    const img = ramp(10, 6);
    assert.deepEqual(resizeBilinear(img, 10, 6).data, img.data);
    const big = resizeBilinear(img, 20, 12);
    assert.deepEqual(px(big, 0, 0), [0, 0, 7]);
    assert.deepEqual(px(big, 19, 11), [9, 5, 7]);
    assert.equal(px(big, 9, 0)[0], Math.round(4.25));
  });
});

describe('ocr reading order', () => {
  const box = (x: number, y: number, label: string) => ({
    label,
    corners: [
      [x, y],
      [x + 50, y],
      [x + 50, y + 20],
      [x, y + 20],
    ] as const,
  });

  it('reads top to bottom, and left to right within a line a few pixels uneven', () => {
    const boxes = [
      box(200, 103, 'line 2 right'),
      box(10, 50, 'line 1'),
      box(20, 100, 'line 2 left'),
      box(5, 160, 'line 3'),
    ];
    assert.deepEqual(
      readingOrder(boxes).map((b) => b.label),
      ['line 1', 'line 2 left', 'line 2 right', 'line 3'],
    );
  });

  it('lines 10 px or more apart stay in vertical order', () => {
    const boxes = [box(200, 100, 'upper right'), box(10, 110, 'lower left')];
    assert.deepEqual(
      readingOrder(boxes).map((b) => b.label),
      ['upper right', 'lower left'],
    );
  });
});
