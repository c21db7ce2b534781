/**
 * Pixel operations on small RGB images (text-line crops): straightening a box out of the page,
 * rotations and bilinear resizing. Plain loops: crops are a few thousand pixels, and staying in
 * JavaScript avoids an async trip through the image library per crop.
 */
import type { RawImage } from '../shared/image-input.js';
import { distance, type Quad } from './geometry.js';

/** An RGB image. */
export type RgbImage = RawImage & { readonly channels: 3 };

/** Crops taller than wide by this factor are vertical text and turned a quarter (PaddleOCR's rule). */
export const TALL_CROP_RATIO = 1.5;

/**
 * Writes the bilinear sample at (x, y) of all three channels to `out` at `o`, repeating edge
 * pixels beyond the border.
 */
function sampleInto(img: RgbImage, x: number, y: number, out: Uint8Array, o: number): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const xa = Math.min(img.width - 1, Math.max(0, x0));
  const xb = Math.min(img.width - 1, Math.max(0, x0 + 1));
  const ya = Math.min(img.height - 1, Math.max(0, y0));
  const yb = Math.min(img.height - 1, Math.max(0, y0 + 1));
  const a = (ya * img.width + xa) * 3;
  const b = (ya * img.width + xb) * 3;
  const c = (yb * img.width + xa) * 3;
  const d = (yb * img.width + xb) * 3;
  const p = img.data;
  for (let k = 0; k < 3; k++) {
    const top = p[a + k]! + (p[b + k]! - p[a + k]!) * fx;
    const bottom = p[c + k]! + (p[d + k]! - p[c + k]!) * fx;
    out[o + k] = Math.round(top + (bottom - top) * fy);
  }
}

/**
 * The box's content as an upright image: the corners map to those of a `width` × `height`
 * image, where width is the longer of the top and bottom edges and height the longer of the
 * sides. Detected boxes are rectangles scaled to the image, i.e. parallelograms, for which the
 * perspective warp PaddleOCR uses is this bilinear map exactly. A crop at least 1.5 times taller
 * than wide is turned a quarter counter-clockwise so vertical text reads left to right.
 */
export function cropBox(img: RgbImage, q: Quad): RgbImage {
  const [tl, tr, br, bl] = q;
  const width = Math.max(1, Math.trunc(Math.max(distance(tl, tr), distance(bl, br))));
  const height = Math.max(1, Math.trunc(Math.max(distance(tl, bl), distance(tr, br))));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const sx = (1 - u) * (1 - v) * tl[0] + u * (1 - v) * tr[0] + u * v * br[0] + (1 - u) * v * bl[0];
      const sy = (1 - u) * (1 - v) * tl[1] + u * (1 - v) * tr[1] + u * v * br[1] + (1 - u) * v * bl[1];
      sampleInto(img, sx, sy, data, (y * width + x) * 3);
    }
  }
  const crop: RgbImage = { width, height, channels: 3, data };
  return height >= width * TALL_CROP_RATIO ? rotateQuarterCcw(crop) : crop;
}

/** The image turned 90° counter-clockwise (numpy's `rot90`). */
export function rotateQuarterCcw(img: RgbImage): RgbImage {
  const { width, height } = img;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < height; x++) {
      // Output row y is input column width-1-y, read top to bottom.
      const from = (x * width + (width - 1 - y)) * 3;
      data.set(img.data.subarray(from, from + 3), (y * height + x) * 3);
    }
  }
  return { width: height, height: width, channels: 3, data };
}

/** The image turned 180° (an upside-down line set right). */
export function rotateHalf(img: RgbImage): RgbImage {
  const n = img.width * img.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) data.set(img.data.subarray(i * 3, i * 3 + 3), (n - 1 - i) * 3);
  return { ...img, data };
}

/**
 * Bilinear resize with pixel centres aligned (OpenCV's INTER_LINEAR): output pixel x samples
 * input x' = (x + 0.5) · scale − 0.5.
 */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const scaleX = img.width / width;
  const scaleY = img.height / height;
  for (let y = 0; y < height; y++) {
    const sy = Math.max(0, (y + 0.5) * scaleY - 0.5);
    for (let x = 0; x < width; x++) {
      const sx = Math.max(0, (x + 0.5) * scaleX - 0.5);
      sampleInto(img, sx, sy, data, (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}

/** Columns `x0` to `x0 + width` of the image. */
export function cropColumns(img: RgbImage, x0: number, width: number): RgbImage {
  const data = new Uint8Array(width * img.height * 3);
  for (let y = 0; y < img.height; y++) {
    const from = (y * img.width + x0) * 3;
    data.set(img.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height: img.height, channels: 3, data };
}
