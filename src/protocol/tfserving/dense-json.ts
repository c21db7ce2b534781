import {
  type BytesArray,
  type Datatype,
  InvalidRequestError,
  type TensorData,
  TYPED_ARRAY,
} from '../../core/index.js';
import { tensorDataFromJson } from '../oip-rest/index.js';

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

// Standard alphabet, padding optional (TF Serving's decoder accepts both).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Decodes base64 text, refusing what is not base64 (Buffer would silently skip bad characters). */
export function decodeBase64(text: string, field: string): Uint8Array {
  if (!BASE64.test(text)) {
    const shown = text.length > 24 ? `${JSON.stringify(text.slice(0, 24))}…` : JSON.stringify(text);
    throw bad(field, `${shown} is not valid base64`);
  }
  return Buffer.from(text, 'base64');
}

/** Deepest nesting read: far beyond any model's rank. */
const MAX_RANK = 32;

/** The shape nested lists announce by their first elements (TF Serving's rule); checked later. */
function announcedShape(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
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
        throw bad(where(), `${datatype} elements must be ${KIND_TEXT[expected]}, got ${JSON.stringify(v)}`);
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
 * Reads a nested JSON value as a tensor of `datatype`: a scalar is shape `[]`, a list of lists
 * `[n, m]`, and so on. `field` names the value in errors; a value out of its datatype's range past
 * rank 1 is named by its row-major index (marked "flattened").
 */
export function denseFromJson(value: unknown, datatype: Datatype, field: string): DenseValue {
  const shape = announcedShape(value);
  // Reading recurses once per level: a cap keeps a pathological body from exhausting the stack.
  if (shape.length > MAX_RANK)
    throw bad(field, `lists nested ${shape.length} deep; at most ${MAX_RANK} allowed`);
  const leaves = collectLeaves(value, shape, field, datatype);
  const label = shape.length > 1 ? `${field} (flattened)` : field;
  const data = datatype === 'BYTES' ? (leaves as BytesArray) : tensorDataFromJson(datatype, leaves, label);
  return { shape, data };
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
