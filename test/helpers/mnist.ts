import { type Digit, heldOutDigits } from '../../examples/training/mnist-data.js';
import type { InferRequest, Tensor } from '../../src/core/index.js';

export { type Digit, heldOutDigits };

/** An OIP request classifying digits as one batch. */
export function digitsRequest(digits: readonly Digit[], version?: string): InferRequest {
  const data = new Float32Array(digits.length * 784);
  for (const [i, d] of digits.entries()) data.set(d.pixels, i * 784);
  const image: Tensor = { name: 'image', datatype: 'FP32', shape: [digits.length, 784], data };
  return { model: 'mnist', ...(version ? { version } : {}), inputs: [image] };
}

/** Index of the largest probability in each row of a [n, 10] output. */
export function argmaxRows(probs: Float32Array, rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (probs[r * 10 + c]! > probs[r * 10 + best]!) best = c;
    out.push(best);
  }
  return out;
}

/** Runs `task` over items with at most `concurrency` at once. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!, i);
      }
    }),
  );
  return results;
}
