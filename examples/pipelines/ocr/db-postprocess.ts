/**
 * DB (Differentiable Binarization) post-processing: from the detector's text-probability map to
 * text boxes in the original image's pixels, after PaddleOCR's `DBPostProcess` with
 * `box_type: quad` and `score_mode: fast`.
 */
import {
  distance,
  growRect,
  minAreaRect,
  orderCorners,
  type Point,
  type Quad,
  rectCorners,
  unclipDistance,
} from './geometry.js';

/** Thresholds of the post-processing; the defaults are PaddleOCR's for PP-OCR detection. */
export interface DbOptions {
  /** A map pixel is text when its probability exceeds this. Default 0.3. */
  readonly thresh: number;
  /** A region is kept when its mean probability inside its box reaches this. Default 0.6. */
  readonly boxThresh: number;
  /** How far a region's box is grown back out (see `unclipDistance`). Default 1.5. */
  readonly unclipRatio: number;
  /** Regions looked at, at most. Default 1000. */
  readonly maxCandidates: number;
  /** Boxes whose short side is below this many map pixels are dropped. Default 3. */
  readonly minSize: number;
}

/** PaddleOCR's defaults. */
export const DB_DEFAULTS: DbOptions = Object.freeze({
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  maxCandidates: 1000,
  minSize: 3,
});

/** A detected text region. */
export interface TextBox {
  /** Corners in the original image's pixels, top-left first, clockwise. */
  readonly corners: Quad;
  /** Mean text probability inside the region's box, 0..1. */
  readonly score: number;
}

/** The probability map: `height` rows of `width` values in 0..1. */
export interface ProbabilityMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/**
 * The regions of pixels above `thresh` (8-connected), each given by the leftmost and rightmost
 * pixel of every row it spans: those hold its convex hull, at a fraction of the points.
 */
export function textRegions(map: ProbabilityMap, thresh: number, maxRegions: number): Point[][] {
  const { width, height, data } = map;
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: Point[][] = [];
  for (let start = 0; start < data.length && regions.length < maxRegions; start++) {
    if (seen[start] || !(data[start]! > thresh)) continue;
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % width;
      const y = (i - x) / width;
      const lo = rowMin.get(y);
      if (lo === undefined || x < lo) rowMin.set(y, x);
      const hi = rowMax.get(y);
      if (hi === undefined || x > hi) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          if (!seen[j] && data[j]! > thresh) {
            seen[j] = 1;
            stack[top++] = j;
          }
        }
      }
    }
    const points: Point[] = [];
    for (const [y, minX] of rowMin) points.push([minX, y], [rowMax.get(y)!, y]);
    regions.push(points);
  }
  return regions;
}

/**
 * The mean probability of the map pixels inside a convex quad (PaddleOCR's "fast" box score:
 * the box, not the region's exact outline). Pixels within half a pixel of an edge count as
 * inside, as a rasterised polygon's edge pixels do.
 */
export function meanInQuad(map: ProbabilityMap, q: Quad): number {
  const xs = q.map((p) => p[0]);
  const ys = q.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(map.width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(map.height - 1, Math.ceil(Math.max(...ys)));
  // Inward edge normals whichever way the corners turn, so inside means every distance >= -0.5.
  let turn = 0;
  for (let i = 0; i < 4; i++) turn += q[i]![0] * q[(i + 1) % 4]![1] - q[(i + 1) % 4]![0] * q[i]![1];
  const sign = turn >= 0 ? 1 : -1;
  const edges = q.map((a, i) => {
    const b = q[(i + 1) % 4]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    return { ax: a[0], ay: a[1], nx: (-sign * (b[1] - a[1])) / len, ny: (sign * (b[0] - a[0])) / len };
  });
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (edges.every((e) => (x - e.ax) * e.nx + (y - e.ay) * e.ny >= -0.5)) {
        sum += map.data[y * map.width + x]!;
        count++;
      }
    }
  }
  return count > 0 ? sum / count : 0;
}

/**
 * Text boxes of a probability map computed on a resized image, in the pixels of the original
 * `imageWidth` × `imageHeight` image: threshold, connected regions, minimum-area rectangle of
 * each, box score, unclip, scale back, and drop boxes of 3 pixels or less across.
 */
export function dbPostprocess(
  map: ProbabilityMap,
  imageWidth: number,
  imageHeight: number,
  options: DbOptions = DB_DEFAULTS,
): TextBox[] {
  const sx = imageWidth / map.width;
  const sy = imageHeight / map.height;
  const boxes: TextBox[] = [];
  for (const region of textRegions(map, options.thresh, options.maxCandidates)) {
    const rect = minAreaRect(region);
    if (Math.min(rect.width, rect.height) < options.minSize) continue;
    const score = meanInQuad(map, rectCorners(rect));
    if (score < options.boxThresh) continue;
    const grown = growRect(rect, unclipDistance(rect, options.unclipRatio));
    if (Math.min(grown.width, grown.height) < options.minSize + 2) continue;
    const corners = orderCorners(
      rectCorners(grown).map(
        (p): Point => [clamp(p[0] * sx, 0, imageWidth - 1), clamp(p[1] * sy, 0, imageHeight - 1)],
      ),
    );
    if (distance(corners[0], corners[1]) <= 3 || distance(corners[0], corners[3]) <= 3) continue;
    boxes.push({ corners, score });
  }
  return boxes;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
