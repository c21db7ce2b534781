import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  hasLightBackground,
  invert,
  MNIST_SIDE,
  mnistPixels,
} from '../../examples/pipelines/digit/preprocess.js';
import type { RawImage } from '../../examples/pipelines/shared/image-input.js';
import { heldOutDigits } from '../helpers/mnist.js';

const grey = (width: number, height: number, data: Uint8Array): RawImage => ({
  width,
  height,
  channels: 1,
  data,
});

describe('digit preprocessing', () => {
  const digit = heldOutDigits()[0]!;
  const pixels = Uint8Array.from(digit.pixels, (v) => Math.round(v * 255));

  it('tells a light (paper) background from a dark (MNIST) one by the border', () => {
    assert.equal(hasLightBackground(grey(MNIST_SIDE, MNIST_SIDE, pixels)), false);
    assert.equal(hasLightBackground(invert(grey(MNIST_SIDE, MNIST_SIDE, pixels))), true);
    assert.equal(hasLightBackground(grey(1, 1, Uint8Array.of(200))), true);
  });

  it('keeps a 28 × 28 MNIST digit as it is', async () => {
    const out = await mnistPixels(grey(MNIST_SIDE, MNIST_SIDE, pixels));
    assert.equal(out.length, 784);
    for (let i = 0; i < 784; i++) assert.ok(Math.abs(out[i]! - pixels[i]! / 255) < 1e-6);
  });

  it('brings a digit drawn dark on light at 4× back to within a few levels of the original', async () => {
    const big = await sharp(invert(grey(MNIST_SIDE, MNIST_SIDE, pixels)).data, {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .resize(112, 112, { kernel: 'nearest' })
      .extractChannel(0)
      .raw()
      .toBuffer();
    const out = await mnistPixels(grey(112, 112, big));
    let err = 0;
    for (let i = 0; i < 784; i++) err += Math.abs(out[i]! - digit.pixels[i]!);
    assert.ok(err / 784 < 0.03, `mean absolute difference ${err / 784}`);
  });

  it('pads a non-square image with background instead of stretching it', async () => {
    // 56 × 28 white paper with a black 12 × 12 blot right of centre.
    const paper = new Uint8Array(56 * 28).fill(255);
    for (let y = 8; y < 20; y++) paper.fill(0, y * 56 + 36, y * 56 + 48);
    const out = await mnistPixels(grey(56, 28, paper));
    // Scaled by 1/2 to 28 × 14 and centred: rows 0-6 are padding, the blot is near (21, 14).
    assert.equal(out[0], 0, 'top-left is padding');
    assert.equal(out[8 * 28 + 3], 0, 'paper turned dark');
    assert.ok(out[14 * 28 + 21]! > 0.9, 'the blot, black ink, is bright');
  });
});
