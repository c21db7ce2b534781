import type { Quad } from './geometry.js';

/**
 * Sorts boxes into reading order: top to bottom, and left to right within a line. Boxes whose
 * top-left corners are less than `lineTolerance` pixels apart vertically count as one line
 * (PaddleOCR's `sorted_boxes` uses 10 px), so a line whose boxes sit a few pixels apart is not
 * read right box first.
 */
export function readingOrder<T extends { readonly corners: Quad }>(
  boxes: readonly T[],
  lineTolerance = 10,
): T[] {
  const top = (b: T): number => b.corners[0][1];
  const left = (b: T): number => b.corners[0][0];
  const sorted = [...boxes].sort((a, b) => top(a) - top(b) || left(a) - left(b));
  // One insertion pass: a box moves left past its predecessors while they are on its line and
  // further right. Comparing neighbours only (not the line's first box) lets a slightly
  // slanted line chain along, as PaddleOCR's pass does.
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i; j > 0; j--) {
      const prev = sorted[j - 1]!;
      const cur = sorted[j]!;
      if (Math.abs(top(cur) - top(prev)) < lineTolerance && left(cur) < left(prev)) {
        sorted[j - 1] = cur;
        sorted[j] = prev;
      } else break;
    }
  }
  return sorted;
}
