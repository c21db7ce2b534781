/**
 * The `digit` pipeline (a `js` backend module), seed 002's image-classification server in
 * miniature: input `image` BYTES [1], an encoded PNG, JPEG or WebP of one handwritten digit of
 * any size; outputs `label` BYTES [1] (the class name from the labels file) and `prob` FP32 [1].
 * It decodes and normalises the image (see preprocess.ts) and asks the `mnist` model.
 *
 * examples/models/digit/1/model.js re-exports this module once `npm run build` has compiled it.
 */
import type { Tensor } from '../../../src/core/index.js';
import type { JsModelContext, TensorLike } from '../../../src/server/backends/index.js';
import { decodeImage, singleImage } from '../shared/image-input.js';
import { numberParameter, stringParameter } from '../shared/parameters.js';
import { mnistPixels } from './preprocess.js';

interface DigitSettings {
  readonly maxPixels: number;
  readonly model: string;
  readonly version: string;
  readonly labels: readonly string[];
}

let settings: DigitSettings | undefined;

/** Reads the settings once per worker. */
export function load(ctx: JsModelContext): void {
  settings = {
    maxPixels: numberParameter(ctx.parameters, 'max_pixels', 40_000_000, { min: 1, integer: true }),
    model: stringParameter(ctx.parameters, 'model', 'mnist'),
    version: stringParameter(ctx.parameters, 'model_version', '2'),
    labels: ctx.labels ?? [],
  };
}

/** Classifies the digit in the image. */
export async function infer(
  inputs: Readonly<Record<string, Tensor>>,
  ctx: JsModelContext,
): Promise<Record<string, TensorLike>> {
  if (settings === undefined) throw new Error('load() has not run');
  const grey = await decodeImage(singleImage(inputs, 'image'), {
    maxPixels: settings.maxPixels,
    channels: 1,
  });
  const pixels = await mnistPixels(grey);
  const result = await ctx.infer(
    settings.model,
    { image: { datatype: 'FP32', shape: [1, pixels.length], data: pixels } },
    { version: settings.version },
  );
  const probs = Object.values(result)[0];
  if (probs === undefined || probs.datatype !== 'FP32')
    throw new Error(`${settings.model} returned no FP32 output`);
  let best = 0;
  for (let c = 1; c < probs.data.length; c++) if (probs.data[c]! > probs.data[best]!) best = c;
  return {
    label: { datatype: 'BYTES', shape: [1], data: [settings.labels[best] ?? String(best)] },
    prob: { datatype: 'FP32', shape: [1], data: [probs.data[best] as number] },
  };
}
