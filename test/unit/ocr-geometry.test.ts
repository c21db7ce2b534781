import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  convexHull,
  growRect,
  minAreaRect,
  orderCorners,
  type Point,
  rectCorners,
  unclipDistance,
} from '../../examples/pipelines/ocr/geometry.js';

const close = (a: number, b: number, eps = 1e-6): void => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);
const closePoint = (a: Point, b: Point, eps = 1e-6): void => {
  close(a[0], b[0], eps);
  close(a[1], b[1], eps);
};

/** The corners of a w × h rectangle centred at (cx, cy), turned by `deg` degrees. */
function turned(cx: number, cy: number, w: number, h: number, deg: number): Point[] {
  const a = (deg * Math.PI) / 180;
  return [
    [-w / 2, -h / 2],
    [w / 2, -h / 2],
    [w / 2, h / 2],
    [-w / 2, h / 2],
  ].map(
    ([x, y]): Point => [cx + x! * Math.cos(a) - y! * Math.sin(a), cy + x! * Math.sin(a) + y! * Math.cos(a)],
  );
}

describe('ocr geometry', () => {
  it('convexHull drops inner and collinear points', () => {
    const hull = convexHull([
      [0, 0],
      [2, 0],
      [4, 0],
      [4, 3],
      [0, 3],
      [2, 1],
      [1, 2],
    ]);
    assert.equal(hull.length, 4);
    for (const p of [
      [0, 0],
      [4, 0],
      [4, 3],
      [0, 3],
    ] as Point[])
      assert.ok(hull.some((q) => q[0] === p[0] && q[1] === p[1]));
  });

  for (const deg of [0, 12, 30, 45, 80, 90, -20]) {
    it(`minAreaRect finds a ${deg}° rectangle from points filling it`, () => {
      const corners = turned(50, 40, 60, 10, deg);
      // Corners plus points inside: the hull is the rectangle.
      const inside: Point[] = [
        [50, 40],
        [52, 41],
        [48, 39],
      ];
      const r = minAreaRect([...corners, ...inside]);
      close(r.cx, 50);
      close(r.cy, 40);
      close(Math.max(r.width, r.height), 60);
      close(Math.min(r.width, r.height), 10);
      const got = rectCorners(r);
      const want = orderCorners(corners);
      for (let i = 0; i < 4; i++) closePoint(got[i]!, want[i]!);
    });
  }

  it('minAreaRect of one point or a segment has zero height', () => {
    assert.equal(minAreaRect([[3, 4]]).height, 0);
    const seg = minAreaRect([
      [0, 0],
      [10, 0],
    ]);
    assert.equal(Math.min(seg.width, seg.height), 0);
    assert.equal(Math.max(seg.width, seg.height), 10);
  });

  it('orderCorners gives top-left, top-right, bottom-right, bottom-left', () => {
    assert.deepEqual(
      orderCorners([
        [10, 5],
        [0, 0],
        [0, 5],
        [10, 0],
      ]),
      [
        [0, 0],
        [10, 0],
        [10, 5],
        [0, 5],
      ],
    );
  });

  it('unclip grows a box by area × ratio / perimeter on every side', () => {
    const r = minAreaRect(turned(0, 0, 100, 10, 0));
    const d = unclipDistance(r, 1.5);
    close(d, (100 * 10 * 1.5) / 220);
    const g = growRect(r, d);
    close(g.width + g.height, 110 + 4 * d);
    assert.equal(unclipDistance({ ...r, width: 0, height: 0 }, 1.5), 0);
  });
});
