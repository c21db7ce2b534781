/**
 * Writes the 1,000 held-out MNIST digits as a `flotilla bench --dataset` file: JSON lines of
 * `{"inputs": {"image": {"datatype": "FP32", "shape": [1, 784], "data": [...]}}, "label": "7"}`.
 *
 *   npm run build && node dist/examples/training/mnist-dataset.js mnist-heldout.jsonl
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Digit, heldOutDigits } from './mnist-data.js';

/** One dataset line for a digit. */
export function datasetLine(digit: Digit): string {
  const data = Array.from(digit.pixels);
  return JSON.stringify({
    inputs: { image: { datatype: 'FP32', shape: [1, 784], data } },
    label: String(digit.label),
  });
}

/** Writes the digits (default: the 1,000 held-out ones) to `file`; returns how many. */
export function writeMnistDataset(file: string, digits: readonly Digit[] = heldOutDigits()): number {
  writeFileSync(file, `${digits.map(datasetLine).join('\n')}\n`);
  return digits.length;
}

// Run as a script, even through a symlinked path (Node runs the real file; argv keeps the link).
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/examples/training/mnist-dataset.js FILE\n');
    process.exit(2);
  }
  process.stdout.write(`wrote ${writeMnistDataset(file)} digits to ${file}\n`);
}
