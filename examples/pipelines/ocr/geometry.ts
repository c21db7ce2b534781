/**
 * Plane geometry for text boxes: convex hulls, minimum-area rotated rectangles (OpenCV's
 * `minAreaRect`), corner order and the DB "unclip" of a rectangle. Image coordinates: x to the
 * right, y down, in pixels.
 */

/** A point `[x, y]`. */
export type Point = readonly [x: number, y: number];

/** Four corners: top-left, top-right, bottom-right, bottom-left (clockwise on screen). */
export type Quad = readonly [Point, Point, Point, Point];

/** A rectangle at any angle. */
export interface RotatedRect {
  readonly cx: number;
  readonly cy: number;
  /** Length along the unit vector (ux, uy). */
  readonly width: number;
  /** Length along the perpendicular (-uy, ux). */
  readonly height: number;
  readonly ux: number;
  readonly uy: number;
}

const cross = (o: Point, a: Point, b: Point): number =>
  (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** The convex hull (Andrew's monotone chain); collinear points are dropped. */
export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length <= 2) return sorted;
  const half = (pts: readonly Point[]): Point[] => {
    const h: Point[] = [];
    for (const p of pts) {
      while (h.length >= 2 && cross(h[h.length - 2]!, h[h.length - 1]!, p) <= 0) h.pop();
      h.push(p);
    }
    h.pop();
    return h;
  };
  return [...half(sorted), ...half(sorted.reverse())];
}

/**
 * The smallest-area rectangle holding every point (rotating calipers: the best rectangle has a
 * side on a hull edge, so trying each edge's direction suffices). One point or a segment gives
 * a rectangle of zero height, which callers drop as too small.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, ux: 1, uy: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Number.POSITIVE_INFINITY;
  // With one point there is no edge: the x axis serves as the direction.
  const edges = hull.length === 1 ? 1 : hull.length;
  for (let i = 0; i < edges; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const ux = len > 0 ? (b[0] - a[0]) / len : 1;
    const uy = len > 0 ? (b[1] - a[1]) / len : 0;
    let minU = Number.POSITIVE_INFINITY;
    let maxU = Number.NEGATIVE_INFINITY;
    let minV = Number.POSITIVE_INFINITY;
    let maxV = Number.NEGATIVE_INFINITY;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      minV = Math.min(minV, v);
      maxV = Math.max(maxV, v);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        cx: cu * ux - cv * uy,
        cy: cu * uy + cv * ux,
        width: maxU - minU,
        height: maxV - minV,
        ux,
        uy,
      };
    }
  }
  return best!;
}

/** The rectangle grown by `distance` on every side. */
export function growRect(r: RotatedRect, distance: number): RotatedRect {
  return { ...r, width: r.width + 2 * distance, height: r.height + 2 * distance };
}

/**
 * DB's unclip distance: the detector predicts a shrunk text kernel, and the text region is the
 * kernel offset outwards by area × ratio / perimeter (the inverse of the shrink used in
 * training). Offsetting a rectangle with round joins and taking the minimum-area rectangle of the
 * result gives the rectangle grown by that distance, so no polygon clipper is needed.
 */
export function unclipDistance(r: RotatedRect, ratio: number): number {
  const perimeter = 2 * (r.width + r.height);
  return perimeter > 0 ? (r.width * r.height * ratio) / perimeter : 0;
}

/** The rectangle's corners, ordered by `orderCorners`. */
export function rectCorners(r: RotatedRect): Quad {
  const hw = r.width / 2;
  const hh = r.height / 2;
  const vx = -r.uy;
  const vy = r.ux;
  const at = (su: number, sv: number): Point => [
    r.cx + su * hw * r.ux + sv * hh * vx,
    r.cy + su * hw * r.uy + sv * hh * vy,
  ];
  return orderCorners([at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)]);
}

/**
 * Orders four corners as top-left, top-right, bottom-right, bottom-left: the two leftmost points
 * (by x) are the left side, the upper of each side (smaller y) its top, as PaddleOCR does.
 */
export function orderCorners(points: readonly Point[]): Quad {
  const byX = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [l0, l1, r0, r1] = byX as [Point, Point, Point, Point];
  const [tl, bl] = l0[1] <= l1[1] ? [l0, l1] : [l1, l0];
  const [tr, br] = r0[1] <= r1[1] ? [r0, r1] : [r1, r0];
  return [tl, tr, br, bl];
}

/** Euclidean distance between two points. */
export function distance(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}
