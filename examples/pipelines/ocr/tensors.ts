/**
 * From pixels to the input tensors of PaddleOCR's three models. All three were trained on
 * OpenCV images, whose channels are in BGR order, so the tensors put blue first.
 */
import { cropColumns, type RgbImage, resizeBilinear } from './image-ops.js';

/** ImageNet statistics as PaddleOCR's detector applies them: index 0 to the first channel (blue). */
const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;

/** Height of the line images the classifier and the recogniser take. */
export const LINE_HEIGHT = 48;
/** The classifier's fixed input width. */
export const CLS_WIDTH = 192;
/** The recogniser's narrowest batch width (PaddleOCR's `rec_image_shape` 3,48,320). */
export const REC_MIN_WIDTH = 320;

/**
 * The detector's input size for an image (PaddleOCR's `DetResizeForTest`, limit type "max"):
 * scaled down so the longer side is at most `limitSide`, never up, then each side rounded to a
 * multiple of 32 (the network downsamples by 32), at least 32.
 */
export function detInputSize(
  width: number,
  height: number,
  limitSide: number,
): { width: number; height: number } {
  const ratio = Math.max(width, height) > limitSide ? limitSide / Math.max(width, height) : 1;
  const round32 = (v: number): number => Math.max(32, Math.round(Math.trunc(v * ratio) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

/** The detector's input `[1, 3, h, w]` from an image already resized to its input size. */
export function detTensor(img: RgbImage): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      // Channel c of the tensor is channel 2 - c of RGB: blue, green, red.
      out[c * plane + i] = (img.data[i * 3 + 2 - c]! / 255 - DET_MEAN[c]!) / DET_STD[c]!;
    }
  }
  return out;
}

/**
 * The width a line image is resized to before padding: its aspect ratio kept at height 48,
 * rounded up, at most `maxWidth` (PaddleOCR's `resize_norm_img`).
 */
export function lineWidth(img: RgbImage, maxWidth: number): number {
  return Math.max(1, Math.min(maxWidth, Math.ceil((LINE_HEIGHT * img.width) / img.height)));
}

/**
 * The recogniser's width for a batch: wide enough for its widest line at height 48, at least
 * 320, so one batch holds lines of similar shape with little padding.
 */
export function recBatchWidth(lines: readonly RgbImage[]): number {
  let ratio = REC_MIN_WIDTH / LINE_HEIGHT;
  for (const l of lines) ratio = Math.max(ratio, l.width / l.height);
  return Math.trunc(LINE_HEIGHT * ratio);
}

/**
 * A batch `[n, 3, 48, width]` of line images for the classifier or the recogniser: each resized
 * to height 48 (see `lineWidth`), scaled to [-1, 1] and padded on the right with zeros (mid
 * grey), as PaddleOCR pads.
 */
export function lineBatch(lines: readonly RgbImage[], width: number): Float32Array {
  const plane = LINE_HEIGHT * width;
  const out = new Float32Array(lines.length * 3 * plane);
  lines.forEach((line, n) => {
    const w = lineWidth(line, width);
    const resized = resizeBilinear(line, w, LINE_HEIGHT);
    const base = n * 3 * plane;
    for (let y = 0; y < LINE_HEIGHT; y++) {
      for (let x = 0; x < w; x++) {
        const p = (y * w + x) * 3;
        for (let c = 0; c < 3; c++)
          out[base + c * plane + y * width + x] = resized.data[p + 2 - c]! / 127.5 - 1;
      }
    }
  });
  return out;
}

/**
 * Pieces of a line for the direction classifier, each about 48 × 192 once scaled. PaddleOCR
 * squeezes a whole line into 192 pixels; a long line squeezed five times and more reads as
 * noise, and the classifier then turns upright lines over (a 613 × 30 line of English scored
 * 0.98 "upside down"). A line up to 1.5 × the classifier's aspect ratio is one piece; a longer one
 * is cut into evenly spaced windows that together cover it.
 */
export function clsWindows(line: RgbImage): RgbImage[] {
  const scaledWidth = (line.width * LINE_HEIGHT) / line.height;
  if (scaledWidth <= CLS_WIDTH * 1.5) return [line];
  const count = Math.ceil(scaledWidth / CLS_WIDTH);
  const width = Math.min(line.width, Math.round((CLS_WIDTH * line.height) / LINE_HEIGHT));
  return Array.from({ length: count }, (_, k) =>
    cropColumns(line, Math.round((k * (line.width - width)) / (count - 1)), width),
  );
}
