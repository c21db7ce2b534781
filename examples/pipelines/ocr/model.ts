/**
 * The `ocr` pipeline (a `js` backend module): PaddleOCR's detect → classify → recognise over the
 * server's `ocr_det`, `ocr_cls` and `ocr_rec` onnx models.
 *
 * Input `image` BYTES [1], an encoded PNG, JPEG or WebP. Outputs, one entry per text line in
 * reading order (top to bottom, then left to right): `text` BYTES [-1], `score` FP32 [-1] (the
 * recogniser's mean character probability), `box` FP32 [-1, 4, 2] (corners in the pixels of the
 * image as displayed, i.e. after its EXIF orientation, top-left first, clockwise), and `timing_ms` FP32 [5], the milliseconds this request
 * spent decoding, detecting, cropping, classifying and recognising (for bench/pipelines.ts;
 * ask for the other outputs only to leave it out).
 *
 * examples/models/ocr/1/model.js re-exports this module once `npm run build` has compiled it.
 */
import { readFileSync } from 'node:fs';
import type { Tensor } from '../../../src/core/index.js';
import type { JsModelContext, TensorLike } from '../../../src/server/backends/index.js';
import { decodeImage, singleImage } from '../shared/image-input.js';
import { charsetFromKeys } from './ctc.js';
import { cropBox, type RgbImage } from './image-ops.js';
import { readingOrder } from './reading-order.js';
import { type OcrSettings, ocrSettings } from './settings.js';
import { classify, detect, recognize } from './stages.js';

let settings: OcrSettings | undefined;
let charset: readonly string[] = [];

/** Reads the settings and the recogniser's keys file once per worker. */
export function load(ctx: JsModelContext): void {
  settings = ocrSettings(ctx.parameters);
  charset = charsetFromKeys(readFileSync(ctx.resolve(settings.keysFile), 'utf8'));
}

/** Milliseconds since the last lap, per stage, in the order of `timing_ms`. */
class StageTimer {
  readonly laps: number[] = [];
  private last = performance.now();

  lap(): void {
    const now = performance.now();
    this.laps.push(now - this.last);
    this.last = now;
  }
}

/** Reads every line of text in the image. */
export async function infer(
  inputs: Readonly<Record<string, Tensor>>,
  ctx: JsModelContext,
): Promise<Record<string, TensorLike>> {
  if (settings === undefined) throw new Error('load() has not run');
  const s = settings;
  const timer = new StageTimer();
  const image = (await decodeImage(singleImage(inputs, 'image'), {
    maxPixels: s.maxPixels,
    channels: 3,
  })) as RgbImage;
  timer.lap();
  const boxes = readingOrder(await detect(image, ctx, s));
  timer.lap();
  const crops = boxes.map((b) => cropBox(image, b.corners));
  timer.lap();
  const lines = await classify(crops, ctx, s);
  timer.lap();
  const recognized = await recognize(lines, ctx, s, charset);
  timer.lap();
  const kept = boxes
    .map((box, i) => ({ box, text: recognized[i]!.text.trim(), score: recognized[i]!.score }))
    .filter((k) => k.score >= s.dropScore && k.text !== '');
  return {
    text: { datatype: 'BYTES', shape: [kept.length], data: kept.map((k) => k.text) },
    score: { datatype: 'FP32', shape: [kept.length], data: Float32Array.from(kept, (k) => k.score) },
    box: {
      datatype: 'FP32',
      shape: [kept.length, 4, 2],
      data: Float32Array.from(kept.flatMap((k) => k.box.corners.flat())),
    },
    timing_ms: { datatype: 'FP32', shape: [timer.laps.length], data: Float32Array.from(timer.laps) },
  };
}
