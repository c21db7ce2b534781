import {
  type BytesArray,
  type Datatype,
  fromHalfBits,
  InvalidRequestError,
  type NumericArray,
  type Tensor,
  type TensorData,
  TYPED_ARRAY,
  toHalfBits,
} from '../../core/index.js';

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

/** Flattens nested JSON arrays (row-major), as both flat and nested tensor data are allowed. */
function flatten(data: unknown[]): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out.push(v);
  };
  walk(data);
  return out;
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

/**
 * Converts the `data` of a JSON tensor to its in-memory form. `field` names the tensor in errors
 * (e.g. `inputs[0].data`); `base64` decodes BYTES elements from base64 instead of UTF-8.
 */
export function tensorDataFromJson(
  datatype: Datatype,
  data: unknown,
  field: string,
  options: { readonly base64?: boolean } = {},
): TensorData {
  if (!Array.isArray(data)) throw bad(field, `expected an array of values, got ${typeof data}`);
  const flat = flatten(data);
  const n = flat.length;
  if (datatype === 'BYTES') {
    const out: BytesArray = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'string')
        throw bad(`${field}[${i}]`, `BYTES elements must be strings, got ${typeof v}`);
      out[i] = Buffer.from(v, options.base64 ? 'base64' : 'utf8');
    }
    return out;
  }
  if (datatype === 'BOOL') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'boolean')
        throw bad(`${field}[${i}]`, `BOOL elements must be true or false, got ${JSON.stringify(v)}`);
      out[i] = v ? 1 : 0;
    }
    return out;
  }
  if (datatype === 'FP32' || datatype === 'FP64') {
    const out = new TYPED_ARRAY[datatype](n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'number')
        throw bad(`${field}[${i}]`, `${datatype} elements must be numbers, got ${JSON.stringify(v)}`);
      out[i] = v;
    }
    return out;
  }
  if (datatype === 'FP16') {
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'number')
        throw bad(`${field}[${i}]`, `FP16 elements must be numbers, got ${JSON.stringify(v)}`);
      out[i] = toHalfBits(v);
    }
    return out;
  }
  const [lo, hi] = INT_RANGE[datatype]!;
  const check = (v: unknown, i: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw bad(
        `${field}[${i}]`,
        `${datatype} elements must be integers in [${lo}, ${hi}], got ${JSON.stringify(v)}`,
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
