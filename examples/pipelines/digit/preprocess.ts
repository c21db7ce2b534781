/**
 * From a grey image of a handwritten digit to the mnist model's input: 784 values in 0..1, a
 * light digit on a dark (0) background, as in the `mnist` package's digits.
 */
import sharp from 'sharp';
import type { RawImage } from '../shared/image-input.js';

/** The model's side in pixels. */
export const MNIST_SIDE = 28;

/**
 * Whether the background is light (ink on paper, the usual photo or scan): the mean of the
 * image's border pixels, where a digit rarely reaches, is above mid grey.
 */
export function hasLightBackground(img: RawImage): boolean {
  const { width, height, data } = img;
  let sum = 0;
  let count = 0;
  const add = (x: number, y: number): void => {
    sum += data[(y * width + x) * img.channels]!;
    count++;
  };
  for (let x = 0; x < width; x++) {
    add(x, 0);
    if (height > 1) add(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    add(0, y);
    if (width > 1) add(width - 1, y);
  }
  return sum / count > 127.5;
}

/** The image with dark and light swapped. */
export function invert(img: RawImage): RawImage {
  return { ...img, data: img.data.map((v) => 255 - v) };
}

/**
 * The 784 pixels the mnist model takes: a dark-on-light digit inverted, the whole image fitted
 * into 28 × 28 keeping its aspect ratio (padded with background), scaled to 0..1.
 */
export async function mnistPixels(grey: RawImage): Promise<Float32Array> {
  if (grey.channels !== 1) throw new Error(`mnistPixels takes a grey image, got ${grey.channels} channels`);
  const img = hasLightBackground(grey) ? invert(grey) : grey;
  const resized = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 1 } })
    .resize(MNIST_SIDE, MNIST_SIDE, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .extractChannel(0)
    .raw()
    .toBuffer();
  return Float32Array.from(resized, (v) => v / 255);
}
