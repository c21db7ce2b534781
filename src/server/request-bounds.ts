import { InvalidRequestError, type TensorSpec, TYPED_ARRAY } from '../core/index.js';

/**
 * How large a request body a model can need, so the HTTP server refuses a larger one from its
 * head, before buffering it (issue 19: a few MiB of empty BYTES elements sent to mnist cost 23 s
 * and 1.8 GB). Decided once per model version, at load; pure.
 */

/**
 * Bytes of JSON text one tensor element may take, its separator and whitespace included: the
 * longest float64 text is 24 characters (`-2.2250738585072014e-308`), and pretty-printed nested
 * lists (Python's `json.dumps(indent=4)` puts each element of a 4-D tensor on its own line, 21
 * spaces in) stay within this.
 */
export const JSON_BYTES_PER_ELEMENT = 64;

/**
 * Room in every body for what is not tensor elements: input and output names, shapes,
 * datatypes, parameters, a request id.
 */
export const BODY_ALLOWANCE_BYTES = 64 * 1024;

/** Room per batch row for TF Serving's and Paddle's row formats, which name every input again. */
const ROW_KEY_BYTES = 16;

/** The largest bodies a model version accepts, by encoding. */
export interface BodyBounds {
  /** A JSON body (OIP v2 JSON, TF Serving, Paddle), allowance included. */
  readonly jsonBytes: number;
  /** The binary tensor data of OIP's binary extension at the largest shapes, exactly. */
  readonly binaryBytes: number;
}

/** What the bounds are computed from: the model's inputs and its max_batch_size (0: no batching). */
export interface BoundedModel {
  readonly inputs: readonly TensorSpec[];
  readonly maxBatchSize: number;
}

/**
 * The largest element count of an input: dimension 0 is the batch (at most max_batch_size) when
 * the model batches; any other free dimension (-1) leaves it unbounded.
 */
function largestCount(spec: TensorSpec, maxBatchSize: number): number | undefined {
  let n = 1;
  for (let i = 0; i < spec.shape.length; i++) {
    const d = spec.shape[i]!;
    if (d >= 0) n *= d;
    else if (i === 0 && maxBatchSize > 0) n *= maxBatchSize;
    else return undefined;
  }
  return n;
}

/**
 * The largest bodies `model` accepts, or undefined when nothing bounds them: a free dimension
 * other than the batch one, or a BYTES input (elements of any length). Then only the server-wide
 * `--max-body` applies.
 */
export function bodyBounds(model: BoundedModel): BodyBounds | undefined {
  let elements = 0;
  let binaryBytes = 0;
  let rowKeys = 0;
  let rows = 1;
  for (const spec of model.inputs) {
    if (spec.datatype === 'BYTES') return undefined;
    const count = largestCount(spec, model.maxBatchSize);
    if (count === undefined) return undefined;
    elements += count;
    binaryBytes += count * TYPED_ARRAY[spec.datatype].BYTES_PER_ELEMENT;
    rowKeys += spec.name.length + ROW_KEY_BYTES;
    const first = spec.shape[0];
    if (first !== undefined) rows = Math.max(rows, first >= 0 ? first : model.maxBatchSize);
  }
  const jsonBytes = BODY_ALLOWANCE_BYTES + elements * JSON_BYTES_PER_ELEMENT + rows * rowKeys;
  if (!Number.isSafeInteger(jsonBytes + binaryBytes)) return undefined;
  return { jsonBytes, binaryBytes };
}

/**
 * The most body bytes one request may send: a JSON body up to `jsonBytes`; with OIP's binary
 * extension, its JSON header (`headerLength`, the Inference-Header-Content-Length value; inputs
 * may still be JSON in it, so up to `jsonBytes`) plus the binary data at the largest shapes.
 */
export function bodyLimit(bounds: BodyBounds, headerLength?: number): number {
  if (headerLength === undefined) return bounds.jsonBytes;
  return Math.min(headerLength, bounds.jsonBytes) + bounds.binaryBytes;
}

/**
 * Refuses a buffered body larger than its model can need, before it is parsed: the bound the
 * HTTP server's `bodyLimit` applies before buffering, applied again by the route (a server path
 * without the hook, or bounds that changed with a reload). Parsing is what it saves: 12 MiB of
 * `""` × 4M took 0.4-0.7 s in JSON.parse alone, for a model whose JSON bodies stop at 3.3 MB.
 */
export function checkBodySize(
  size: number,
  bounds: BodyBounds | undefined,
  headerLength: number | undefined,
  model: string,
): void {
  if (!bounds) return;
  const limit = bodyLimit(bounds, headerLength);
  if (size > limit) {
    throw new InvalidRequestError(
      'FLT_BODY_TOO_LARGE',
      `request body: ${size} bytes exceeds the ${limit} bytes model "${model}" can need (its inputs at their largest shapes)`,
    );
  }
}
