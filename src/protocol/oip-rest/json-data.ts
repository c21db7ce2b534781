import {
  type BytesArray,
  type Datatype,
  elementCount,
  fromHalfBits,
  InvalidRequestError,
  type NumericArray,
  previewJson,
  type Tensor,
  type TensorData,
  TYPED_ARRAY,
  toHalfBits,
} from '../../core/index.js';
import { decodeBase64 } from './base64.js';

/** Integer ranges, so out-of-range JSON values are refused instead of silently wrapping. */
const INT_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Deepest nesting read when no shape bounds it (a model's outputs, pipeline values): far beyond
 * any model's rank, and the walk below is iterative anyway.
 */
const MAX_NESTING = 64;

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

const fmtShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/**
 * Flattens nested JSON arrays (row-major), as both flat and nested tensor data are allowed.
 * With a shape, data nested deeper than its rank is refused at the first list too deep, and the
 * walk stops at the first element past the shape's count: work follows the shape, not the body.
 * The walk keeps its own stack: recursion overflowed on data nested 100,000 deep (a 500).
 */
function flatten(data: unknown[], field: string, shape: readonly number[] | undefined): unknown[] {
  const count = shape === undefined ? Number.POSITIVE_INFINITY : elementCount(shape);
  // Flat data is counted by the caller before any element is converted.
  if (!data.some(Array.isArray)) return data;
  // A scalar's data is still a list of one element: depth 1 is always allowed.
  const maxDepth = shape === undefined ? MAX_NESTING : Math.max(shape.length, 1);
  const out: unknown[] = [];
  const lists: unknown[][] = [data];
  const next: number[] = [0];
  while (lists.length > 0) {
    const depth = lists.length - 1;
    const list = lists[depth]!;
    const i = next[depth]!;
    if (i === list.length) {
      lists.pop();
      next.pop();
      continue;
    }
    next[depth] = i + 1;
    const v = list[i];
    if (!Array.isArray(v)) {
      if (out.length === count) {
        throw new InvalidRequestError(
          'FLT_DATA_SIZE_MISMATCH',
          `${field}: has more than ${count} elements but shape ${fmtShape(shape ?? [])} holds ${count}`,
        );
      }
      out.push(v);
      continue;
    }
    if (lists.length === maxDepth) {
      throw bad(
        field,
        shape === undefined
          ? `lists nested deeper than ${maxDepth}`
          : `lists nested deeper than ${maxDepth}, the rank of shape ${fmtShape(shape)}`,
      );
    }
    lists.push(v);
    next.push(0);
  }
  return out;
}

/**
 * Converts the `data` of a JSON tensor to its in-memory form. `field` names the tensor in errors
 * (e.g. `inputs[0].data`); `base64` decodes BYTES elements from base64 instead of UTF-8. With
 * `shape`, the data must hold exactly its element count, nested at most its rank deep; this is
 * checked before any element is converted.
 */
export function tensorDataFromJson(
  datatype: Datatype,
  data: unknown,
  field: string,
  options: { readonly base64?: boolean; readonly shape?: readonly number[] } = {},
): TensorData {
  if (!Array.isArray(data)) throw bad(field, `expected an array of values, got ${typeof data}`);
  const flat = flatten(data, field, options.shape);
  const n = flat.length;
  if (options.shape !== undefined && n !== elementCount(options.shape)) {
    throw new InvalidRequestError(
      'FLT_DATA_SIZE_MISMATCH',
      `${field}: has ${n} elements but shape ${fmtShape(options.shape)} holds ${elementCount(options.shape)}`,
    );
  }
  if (datatype === 'BYTES') {
    const out: BytesArray = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'string')
        throw bad(`${field}[${i}]`, `BYTES elements must be strings, got ${typeof v}`);
      out[i] = options.base64 ? decodeBase64(v, `${field}[${i}]`) : Buffer.from(v, 'utf8');
    }
    return out;
  }
  if (datatype === 'BOOL') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'boolean')
        throw bad(`${field}[${i}]`, `BOOL elements must be true or false, got ${previewJson(v)}`);
      out[i] = v ? 1 : 0;
    }
    return out;
  }
  if (datatype === 'FP32' || datatype === 'FP64') {
    const out = new TYPED_ARRAY[datatype](n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'number')
        throw bad(`${field}[${i}]`, `${datatype} elements must be numbers, got ${previewJson(v)}`);
      out[i] = v;
    }
    return out;
  }
  if (datatype === 'FP16') {
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'number')
        throw bad(`${field}[${i}]`, `FP16 elements must be numbers, got ${previewJson(v)}`);
      out[i] = toHalfBits(v);
    }
    return out;
  }
  const [lo, hi] = INT_RANGE[datatype]!;
  const check = (v: unknown, i: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw bad(
        `${field}[${i}]`,
        `${datatype} elements must be integers in [${lo}, ${hi}], got ${previewJson(v)}`,
      );
    }
    return v;
  };
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const out = new TYPED_ARRAY[datatype](n);
    for (let i = 0; i < n; i++) out[i] = BigInt(check(flat[i], i));
    return out;
  }
  const out = new TYPED_ARRAY[datatype](n);
  for (let i = 0; i < n; i++) out[i] = check(flat[i], i);
  return out;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Numbers as a JSON array body; non-finite floats (not valid JSON) become null. */
function numbersToJson(arr: NumericArray | number[]): string {
  const s = Array.prototype.join.call(arr, ',');
  if (!/[NI]/.test(s)) return `[${s}]`;
  return `[${Array.from(arr as ArrayLike<number>, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',')}]`;
}

/**
 * The JSON text of a tensor's `data`, plus tensor parameters when BYTES had to be sent as base64
 * (elements that are not valid UTF-8, e.g. encoded images).
 */
export function tensorDataToJson(t: Tensor): { json: string; base64: boolean } {
  switch (t.datatype) {
    case 'BYTES': {
      try {
        return { json: JSON.stringify(t.data.map((b) => utf8Strict.decode(b))), base64: false };
      } catch {
        return { json: JSON.stringify(t.data.map((b) => Buffer.from(b).toString('base64'))), base64: true };
      }
    }
    case 'BOOL':
      return { json: `[${Array.from(t.data, (v) => (v ? 'true' : 'false')).join(',')}]`, base64: false };
    case 'FP16':
      return { json: numbersToJson(Array.from(t.data, fromHalfBits)), base64: false };
    default:
      // BigInt arrays join to exact decimal digits, which JSON reads as numbers.
      return { json: numbersToJson(t.data), base64: false };
  }
}
