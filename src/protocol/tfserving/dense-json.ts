import {
  type BytesArray,
  type Datatype,
  InvalidRequestError,
  previewJson,
  type TensorData,
  TYPED_ARRAY,
} from '../../core/index.js';
import { decodeBase64, tensorDataFromJson } from '../oip-rest/index.js';

/**
 * Reading tensors written as nested JSON lists, the way TF Serving's REST API (and Paddle
 * Serving's `feed`) carry them: the nesting gives the shape, the leaves the elements.
 */

/** A JSON value read as a dense tensor: its shape and its elements in row-major order. */
export interface DenseValue {
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** TF Serving's encoding of binary data: an object whose only key is `b64`, holding base64 text. */
export function isBase64Object(value: unknown): value is { readonly b64: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'b64' && typeof (value as { b64: unknown }).b64 === 'string';
}

/** A JSON object naming tensors (`{input_name: value}`), as opposed to a value or a `b64` object. */
export function isNamedObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isBase64Object(value);
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

/** Deepest nesting read without a model's rank to bound it: far beyond any model's rank. */
const MAX_RANK = 32;

/**
 * The shape nested lists announce by their first elements (TF Serving's rule); whether the rest
 * agrees is checked while reading them. Lists nested deeper than `maxRank` are refused at the
 * first level past it: this walk is iterative and stops there, so a list nested 100,000 deep
 * costs `maxRank` steps. `rank` names the bound in the error (e.g. `the rank of input "x"`).
 */
export function denseShape(value: unknown, maxRank: number, field: string, rank?: string): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    if (shape.length === maxRank) {
      throw bad(field, `lists nested deeper than ${maxRank}${rank ? `, ${rank}` : ''}`);
    }
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

/**
 * Collects the leaves in row-major order (BYTES ones already as bytes: strings as UTF-8,
 * `{"b64": …}` objects decoded), refusing ragged lists and wrong kinds with the offender's path.
 */
function collectLeaves(
  value: unknown,
  shape: readonly number[],
  field: string,
  datatype: Datatype,
): unknown[] {
  const expected = datatype === 'BYTES' ? 'string' : datatype === 'BOOL' ? 'boolean' : 'number';
  const out: unknown[] = [];
  // Indices are kept on a stack and only formatted when something is wrong.
  const at: number[] = [];
  const where = (): string => field + at.map((i) => `[${i}]`).join('');
  const walk = (v: unknown): void => {
    const level = at.length;
    if (!Array.isArray(v)) {
      if (level !== shape.length) {
        throw bad(
          where(),
          `a value where a list of ${shape[level]} was expected (lists must be rectangular)`,
        );
      }
      // The JSON kind is checked here, where the nested path is known; ranges are checked later.
      if (typeof v !== expected && !(expected === 'string' && isBase64Object(v))) {
        throw bad(where(), `${datatype} elements must be ${KIND_TEXT[expected]}, got ${previewJson(v)}`);
      }
      if (expected !== 'string') out.push(v);
      else
        out.push(
          typeof v === 'string'
            ? Buffer.from(v, 'utf8')
            : decodeBase64((v as { b64: string }).b64, `${where()}.b64`),
        );
      return;
    }
    if (level === shape.length)
      throw bad(where(), 'a list where a value was expected (lists must be rectangular)');
    if (v.length !== shape[level]) {
      throw bad(
        where(),
        `has ${v.length} elements but the first list at this depth has ${shape[level]} (lists must be rectangular)`,
      );
    }
    for (let i = 0; i < v.length; i++) {
      at.push(i);
      walk(v[i]);
      at.pop();
    }
  };
  walk(value);
  return out;
}

const KIND_TEXT = {
  string: 'strings or {"b64": "…"} objects',
  boolean: 'true or false',
  number: 'numbers',
} as const;

/**
 * Reads a nested JSON value whose shape `denseShape` announced (and the model accepted) as tensor
 * data of `datatype`, refusing ragged lists and wrong kinds with the offender's path. Only the
 * announced shape's elements are visited; a value out of its datatype's range past rank 1 is
 * named by its row-major index (marked "flattened").
 */
export function denseData(
  value: unknown,
  shape: readonly number[],
  datatype: Datatype,
  field: string,
): TensorData {
  const leaves = collectLeaves(value, shape, field, datatype);
  const label = shape.length > 1 ? `${field} (flattened)` : field;
  return datatype === 'BYTES' ? (leaves as BytesArray) : tensorDataFromJson(datatype, leaves, label);
}

/**
 * Reads a nested JSON value as a tensor of `datatype`: a scalar is shape `[]`, a list of lists
 * `[n, m]`, and so on. For values a model's rank does not bound (a client reading answers); the
 * server reads requests with `denseShape` and `denseData`, checking the shape in between.
 */
export function denseFromJson(value: unknown, datatype: Datatype, field: string): DenseValue {
  const shape = denseShape(value, MAX_RANK, field);
  return { shape, data: denseData(value, shape, datatype, field) };
}

/** Joins tensor data end to end (along the batch dimension). */
export function concatData(datatype: Datatype, parts: readonly TensorData[]): TensorData {
  if (parts.length === 1) return parts[0]!;
  if (datatype === 'BYTES') return (parts as readonly BytesArray[]).flat();
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new TYPED_ARRAY[datatype](total);
  let offset = 0;
  for (const p of parts) {
    // Every part holds the same typed array kind as `out` (same datatype).
    (out as { set(a: ArrayLike<unknown>, offset: number): void }).set(p as ArrayLike<unknown>, offset);
    offset += p.length;
  }
  return out;
}
