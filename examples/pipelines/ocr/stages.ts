/**
 * The three model calls of the OCR pipeline: detect text boxes, set upside-down lines right,
 * recognise each line. Each prepares its tensors, calls its model through `ctx.infer` (the
 * server's own onnx models) and interprets the answer.
 */
import sharp from 'sharp';
import type { Tensor } from '../../../src/core/index.js';
import type { JsModelContext } from '../../../src/server/backends/index.js';
import { ctcGreedyDecode, type Recognition } from './ctc.js';
import { dbPostprocess, type TextBox } from './db-postprocess.js';
import { type RgbImage, rotateHalf } from './image-ops.js';
import type { OcrSettings } from './settings.js';
import {
  CLS_WIDTH,
  clsWindows,
  detInputSize,
  detTensor,
  LINE_HEIGHT,
  lineBatch,
  REC_MIN_WIDTH,
  recBatchWidth,
} from './tensors.js';

/** The output of a model that has exactly one (PaddleOCR's exports name them after graph nodes). */
async function callSingleOutput(
  ctx: JsModelContext,
  model: string,
  input: Float32Array,
  shape: readonly number[],
): Promise<Tensor> {
  const outputs = Object.values(await ctx.infer(model, { x: { datatype: 'FP32', shape, data: input } }));
  if (outputs.length !== 1 || outputs[0]!.datatype !== 'FP32') {
    throw new Error(`${model} must have one FP32 output, it returned ${outputs.length}`);
  }
  return outputs[0]!;
}

/** Text boxes in the image's pixels, with their detection scores. */
export async function detect(image: RgbImage, ctx: JsModelContext, s: OcrSettings): Promise<TextBox[]> {
  const size = detInputSize(image.width, image.height, s.detLimitSide);
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const resized =
    size.width === image.width && size.height === image.height
      ? image.data
      : await sharp(image.data, { raw })
          .resize(size.width, size.height, { fit: 'fill', kernel: 'linear' })
          .raw()
          .toBuffer();
  const input = detTensor({ ...size, channels: 3, data: resized });
  const map = await callSingleOutput(ctx, s.models.det, input, [1, 3, size.height, size.width]);
  const [, , height = 0, width = 0] = map.shape;
  return dbPostprocess({ width, height, data: map.data as Float32Array }, image.width, image.height, s.db);
}

/** Chunks of at most `size` items. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The lines with those the direction classifier finds upside down (class 1, 180°) turned. A
 * long line is judged on the mean of its windows' probabilities (see `clsWindows`). Batches go
 * to the classifier at once, so its instances work on them in parallel.
 */
export async function classify(
  lines: readonly RgbImage[],
  ctx: JsModelContext,
  s: OcrSettings,
): Promise<RgbImage[]> {
  const windows = lines.flatMap((line, i) => clsWindows(line).map((image) => ({ line: i, image })));
  const upsideDown = new Float64Array(lines.length);
  const count = new Float64Array(lines.length);
  await Promise.all(
    chunks(windows, s.clsBatch).map(async (batch) => {
      const images = batch.map((w) => w.image);
      const probs = await callSingleOutput(ctx, s.models.cls, lineBatch(images, CLS_WIDTH), [
        images.length,
        3,
        LINE_HEIGHT,
        CLS_WIDTH,
      ]);
      batch.forEach((w, i) => {
        upsideDown[w.line]! += probs.data[i * 2 + 1] as number;
        count[w.line]!++;
      });
    }),
  );
  return lines.map((line, i) => {
    const p = upsideDown[i]! / count[i]!;
    return p > 0.5 && p >= s.clsThresh ? rotateHalf(line) : line;
  });
}

/**
 * The text of each line, in the order given. Lines are sorted by aspect ratio (as PaddleOCR
 * does) and batched so a batch pads its lines to a similar width (see `widthBatches`); batches
 * go to the recogniser at once, so its instances work on them in parallel.
 */
export async function recognize(
  lines: readonly RgbImage[],
  ctx: JsModelContext,
  s: OcrSettings,
  charset: readonly string[],
): Promise<Recognition[]> {
  const out: Recognition[] = new Array(lines.length);
  await Promise.all(
    widthBatches(lines, s.recBatch).map(async (batch) => {
      const images = batch.map((i) => lines[i]!);
      const width = recBatchWidth(images);
      const probs = await callSingleOutput(ctx, s.models.rec, lineBatch(images, width), [
        images.length,
        3,
        LINE_HEIGHT,
        width,
      ]);
      const decoded = ctcGreedyDecode(probs.data as Float32Array, probs.shape, charset, {
        spaceThresh: s.spaceThresh,
      });
      batch.forEach((lineIndex, i) => {
        out[lineIndex] = decoded[i]!;
      });
    }),
  );
  return out;
}

/** A batch's widest line may be this many times as wide (at height 48) as its narrowest. */
export const REC_PAD_RATIO = 1.3;

/**
 * Indexes of the lines in batches of at most `maxBatch`, narrowest first. The recogniser's cost
 * grows with the padded width, so one batch of a short and a long line costs as much as two long
 * lines: a batch closes when the next line is over 1.3 × as wide as its first (at least the
 * recogniser's minimum width, below which every line is padded anyway).
 */
export function widthBatches(lines: readonly RgbImage[], maxBatch: number): number[][] {
  const ratio = (i: number): number =>
    Math.max(REC_MIN_WIDTH / LINE_HEIGHT, lines[i]!.width / lines[i]!.height);
  const order = lines.map((_, i) => i).sort((a, b) => ratio(a) - ratio(b));
  const batches: number[][] = [];
  for (const i of order) {
    const current = batches.at(-1);
    if (current && current.length < maxBatch && ratio(i) <= ratio(current[0]!) * REC_PAD_RATIO)
      current.push(i);
    else batches.push([i]);
  }
  return batches;
}
