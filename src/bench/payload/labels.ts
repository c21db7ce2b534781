import { bytesToStrings, type Tensor } from '../../core/index.js';

/**
 * The label each batch row predicts: the argmax over the last dimension of a numeric output
 * (`probs` [n, 10] -> "7"), or the text of a BYTES output's row (a class name, or Triton's
 * classification `score:index:label`).
 */
export function predictedLabels(output: Tensor): string[] {
  const rows = output.shape.length >= 2 ? output.shape[0]! : 1;
  const width = rows === 0 ? 0 : output.data.length / rows;
  if (output.datatype === 'BYTES') {
    const texts = bytesToStrings(output.data);
    return Array.from({ length: rows }, (_, r) => texts[r * width] ?? '');
  }
  const data = output.data as ArrayLike<number | bigint>;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (data[r * width + c]! > data[r * width + best]!) best = c;
    out.push(String(best));
  }
  return out;
}

/** Whether a predicted label names the expected one (Triton's `score:index:label` matches index or label). */
function matches(predicted: string, expected: string): boolean {
  if (predicted === expected) return true;
  const parts = predicted.split(':');
  return parts.length === 3 && (parts[1] === expected || parts[2] === expected);
}

/** Rows whose prediction matches; undefined when the label output is missing from the answer. */
export function countCorrect(
  outputs: readonly Tensor[],
  labelOutput: string,
  expected: readonly string[],
): number | undefined {
  const out = outputs.find((t) => t.name === labelOutput);
  if (!out) return undefined;
  const predicted = predictedLabels(out);
  let correct = 0;
  for (const [i, label] of expected.entries())
    if (predicted[i] !== undefined && matches(predicted[i]!, label)) correct++;
  return correct;
}
