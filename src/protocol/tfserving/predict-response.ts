import { elementCount, type InferResponse, InvalidRequestError, type Tensor } from '../../core/index.js';
import { elementTexts, isUtf8, nestedJson } from './json-text.js';
import type { PredictFormat } from './predict-request.js';

/**
 * Whether a BYTES output goes out as `{"b64": …}` objects: TF Serving's rule (the output's name
 * ends in `_bytes`), and also whenever an element is not valid UTF-8, which a JSON string
 * cannot carry.
 */
export function bytesAsBase64(t: Tensor): boolean {
  return t.datatype === 'BYTES' && (t.name.endsWith('_bytes') || !isUtf8(t.data));
}

/** The batch size every output shares, which the row format needs to answer one item per row. */
function rowCount(outputs: readonly Tensor[]): number {
  let rows: number | undefined;
  for (const t of outputs) {
    const n = t.shape[0];
    if (n === undefined) {
      throw new InvalidRequestError(
        'FLT_INVALID_FIELD',
        `instances: the row format answers per batch row, but output "${t.name}" is a scalar; use the columnar format ("inputs")`,
      );
    }
    if (rows !== undefined && n !== rows) {
      throw new InvalidRequestError(
        'FLT_INVALID_FIELD',
        `instances: the row format answers per batch row, but output "${t.name}" has ${n} rows and another ${rows}; use the columnar format ("inputs")`,
      );
    }
    rows = n;
  }
  return rows ?? 0;
}

/**
 * `{"predictions": [...]}`: one item per batch row; with one output the item is that output's
 * row, with several an object `{output_name: row}`.
 */
function rowJson(outputs: readonly Tensor[]): string {
  const rows = rowCount(outputs);
  const columns = outputs.map((t) => ({
    key: JSON.stringify(t.name),
    elements: elementTexts(t, bytesAsBase64(t), 'tokens'),
    inner: t.shape.slice(1),
    stride: elementCount(t.shape.slice(1)),
  }));
  const items: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const values = columns.map((c) => nestedJson(c.elements, c.inner, r * c.stride));
    items[r] =
      columns.length === 1 ? values[0]! : `{${columns.map((c, i) => `${c.key}:${values[i]}`).join(',')}}`;
  }
  return `{"predictions":[${items.join(',')}]}`;
}

/** `{"outputs": …}`: the one output's whole value, or an object `{output_name: value}`. */
function columnarJson(outputs: readonly Tensor[]): string {
  const values = outputs.map((t) => nestedJson(elementTexts(t, bytesAsBase64(t), 'tokens'), t.shape));
  if (outputs.length === 1) return `{"outputs":${values[0]}}`;
  return `{"outputs":{${outputs.map((t, i) => `${JSON.stringify(t.name)}:${values[i]}`).join(',')}}}`;
}

/**
 * Encodes a predict answer in the format the request used; non-finite floats are written as TF
 * Serving writes them (`NaN`, `Infinity`, `-Infinity`), which TF Serving's clients read.
 */
export function encodePredictResponse(res: InferResponse, format: PredictFormat): string {
  return format === 'row' ? rowJson(res.outputs) : columnarJson(res.outputs);
}
