import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DB_DEFAULTS,
  dbPostprocess,
  meanInQuad,
  type ProbabilityMap,
  textRegions,
} from '../../examples/pipelines/ocr/db-postprocess.js';

/** A map of `width` × `height` with the given axis-aligned blocks set to `p`. */
function mapWith(
  width: number,
  height: number,
  blocks: readonly { x0: number; y0: number; x1: number; y1: number; p: number }[],
): ProbabilityMap {
  const data = new Float32Array(width * height);
  for (const b of blocks)
    for (let y = b.y0; y <= b.y1; y++) for (let x = b.x0; x <= b.x1; x++) data[y * width + x] = b.p;
  return { width, height, data };
}

describe('ocr DB post-processing', () => {
  it('textRegions finds 8-connected regions with each row’s extremes', () => {
    const map = mapWith(20, 10, [
      { x0: 1, y0: 1, x1: 5, y1: 2, p: 0.9 },
      { x0: 6, y0: 3, x1: 6, y1: 3, p: 0.9 }, // touches the first only diagonally
      { x0: 10, y0: 5, x1: 15, y1: 7, p: 0.9 },
      { x0: 0, y0: 9, x1: 19, y1: 9, p: 0.2 }, // below the threshold
    ]);
    const regions = textRegions(map, 0.3, 1000);
    assert.equal(regions.length, 2);
    assert.deepEqual(
      [...regions[0]!].sort((a, b) => a[1] - b[1] || a[0] - b[0]),
      [
        [1, 1],
        [5, 1],
        [1, 2],
        [5, 2],
        [6, 3],
        [6, 3],
      ],
    );
    assert.equal(textRegions(map, 0.3, 1).length, 1, 'maxRegions caps the search');
  });

  it('meanInQuad averages the pixels inside the box', () => {
    const map = mapWith(10, 10, [
      { x0: 2, y0: 2, x1: 5, y1: 5, p: 1 },
      { x0: 6, y0: 2, x1: 7, y1: 5, p: 0.5 },
    ]);
    const box = [
      [2, 2],
      [7, 2],
      [7, 5],
      [2, 5],
    ] as const;
    assert.ok(Math.abs(meanInQuad(map, box) - (16 + 8 * 0.5) / 24) < 1e-6);
    // The same box with its corners counter-clockwise.
    assert.ok(Math.abs(meanInQuad(map, [box[0], box[3], box[2], box[1]]) - (16 + 8 * 0.5) / 24) < 1e-6);
  });

  it('turns a text kernel into a box grown by the unclip distance, in image pixels', () => {
    // A 41 × 9 px kernel on a 64 × 32 map of a 128 × 64 image (scale 2).
    const map = mapWith(64, 32, [{ x0: 10, y0: 10, x1: 50, y1: 18, p: 0.9 }]);
    const [box, ...rest] = dbPostprocess(map, 128, 64);
    assert.equal(rest.length, 0);
    assert.ok(Math.abs(box!.score - 0.9) < 1e-6);
    const d = (40 * 8 * 1.5) / (2 * 48);
    const want = [
      [(10 - d) * 2, (10 - d) * 2],
      [(50 + d) * 2, (10 - d) * 2],
      [(50 + d) * 2, (18 + d) * 2],
      [(10 - d) * 2, (18 + d) * 2],
    ];
    box!.corners.forEach((p, i) => {
      assert.ok(
        Math.abs(p[0] - want[i]![0]!) < 1e-4 && Math.abs(p[1] - want[i]![1]!) < 1e-4,
        `corner ${i}: ${p}`,
      );
    });
  });

  it('clamps boxes to the image and drops weak, thin and tiny regions', () => {
    const map = mapWith(64, 32, [
      { x0: 0, y0: 0, x1: 30, y1: 6, p: 0.95 }, // at the corner: clamped
      { x0: 40, y0: 20, x1: 60, y1: 26, p: 0.4 }, // mean below box_thresh 0.6
      { x0: 5, y0: 20, x1: 30, y1: 21, p: 0.9 }, // 2 px thin: below min_size 3
      { x0: 40, y0: 5, x1: 41, y1: 6, p: 0.9 }, // a speck
    ]);
    const boxes = dbPostprocess(map, 64, 32);
    assert.equal(boxes.length, 1);
    for (const [x, y] of boxes[0]!.corners) assert.ok(x >= 0 && x <= 63 && y >= 0 && y <= 31);
    assert.equal(dbPostprocess(map, 64, 32, { ...DB_DEFAULTS, boxThresh: 0.3 }).length, 2);
  });

  it('follows a slanted line with a turned box', () => {
    const width = 100;
    const height = 60;
    const data = new Float32Array(width * height);
    // A band 6 px thick rising 1 px every 4 px.
    for (let x = 10; x < 90; x++) {
      const y0 = 40 - Math.floor((x - 10) / 4);
      for (let y = y0; y < y0 + 6; y++) data[y * width + x] = 0.9;
    }
    const [box] = dbPostprocess({ width, height, data }, width, height);
    const [tl, tr] = box!.corners;
    const slope = (tr[1] - tl[1]) / (tr[0] - tl[0]);
    assert.ok(Math.abs(slope + 0.25) < 0.03, `slope ${slope}`);
  });
});
