import {
  elementCount,
  InvalidRequestError,
  type RequestedOutput,
  stringsToBytes,
  type Tensor,
  type TensorSpec,
} from '../core/index.js';

/**
 * Triton's classification extension: an output asked for with `parameters.classification: k`
 * (KServe's older spelling `class_count` too) is answered as BYTES "score:index[:label]", the top
 * k classes of each batch row, best first.
 */

/** The k an output asks for, undefined when it asks for plain values; 400 for anything but 1, 2, …. */
export function classCount(requested: RequestedOutput): number | undefined {
  const p = requested.parameters;
  if (!p) return undefined;
  const key = p['classification'] !== undefined ? 'classification' : 'class_count';
  const k = p[key];
  if (k === undefined) return undefined;
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1) {
    throw new InvalidRequestError(
      'FLT_INVALID_CLASSIFICATION',
      `output "${requested.name}": parameters.${key}: ${JSON.stringify(k)} is not a positive integer (the number of top classes to return)`,
    );
  }
  return k;
}

/** Classes per batch row: every element past the batch dimension. */
function classesOf(shape: readonly number[], batched: boolean): number {
  return elementCount(batched ? shape.slice(1) : shape);
}

function tooMany(name: string, k: number, classes: number): InvalidRequestError {
  return new InvalidRequestError(
    'FLT_INVALID_CLASSIFICATION',
    `output "${name}": classification ${k} is larger than its ${classes} classes`,
  );
}

/**
 * Checks the classification asked of each requested output before the model runs, where the
 * output's declared shape fixes its class count: a numeric output, and k within it.
 */
export function checkClassification(
  requested: readonly RequestedOutput[] | undefined,
  outputs: readonly TensorSpec[],
  batched: boolean,
): void {
  for (const r of requested ?? []) {
    const k = classCount(r);
    if (k === undefined) continue;
    const spec = outputs.find((o) => o.name === r.name);
    if (!spec) continue; // the request check names the unknown output
    if (spec.datatype === 'BYTES') {
      throw new InvalidRequestError(
        'FLT_INVALID_CLASSIFICATION',
        `output "${r.name}": classification needs numeric scores; this output is BYTES`,
      );
    }
    const dims = batched ? spec.shape.slice(1) : spec.shape;
    if (dims.every((d) => d >= 0) && k > elementCount(dims)) throw tooMany(r.name, k, elementCount(dims));
  }
}

/** Triton's `std::to_string` of a float: six decimals. */
const score = (v: number): string => v.toFixed(6);

/** The top `k` classes of every batch row of a numeric output, as Triton's BYTES strings. */
export function classify(
  output: Tensor,
  k: number,
  labels: readonly string[] | undefined,
  batched: boolean,
): Tensor {
  if (output.datatype === 'BYTES') {
    throw new InvalidRequestError(
      'FLT_INVALID_CLASSIFICATION',
      `output "${output.name}": classification needs numeric scores; this output is BYTES`,
    );
  }
  const classes = classesOf(output.shape, batched);
  if (k > classes) throw tooMany(output.name, k, classes);
  const rows = classes === 0 ? 0 : output.data.length / classes;
  const data = output.data as ArrayLike<number | bigint>;
  const out: string[] = [];
  const order = Array.from({ length: classes }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const value = (i: number): number => Number(data[base + i]!);
    // Best first; equal scores keep the lower index first.
    const top = [...order].sort((a, b) => value(b) - value(a) || a - b).slice(0, k);
    for (const i of top) {
      const label = labels?.[i];
      out.push(label ? `${score(value(i))}:${i}:${label}` : `${score(value(i))}:${i}`);
    }
  }
  const shape = batched ? [output.shape[0] ?? rows, k] : [k];
  return { name: output.name, datatype: 'BYTES', shape, data: stringsToBytes(out) };
}

/** Replaces every output asked for with a classification by its top-k strings. */
export function applyClassification(
  outputs: readonly Tensor[],
  requested: readonly RequestedOutput[] | undefined,
  labels: readonly string[] | undefined,
  batched: boolean,
): readonly Tensor[] {
  if (!requested?.some((r) => r.parameters !== undefined)) return outputs;
  return outputs.map((t) => {
    const r = requested.find((x) => x.name === t.name);
    const k = r ? classCount(r) : undefined;
    return k === undefined ? t : classify(t, k, labels, batched);
  });
}
