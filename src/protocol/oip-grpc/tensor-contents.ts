import {
  type BytesArray,
  type Datatype,
  elementCount,
  InvalidRequestError,
  type Tensor,
  type TensorData,
  TYPED_ARRAY,
} from '../../core/index.js';
import type { ContentsField, InferTensorContentsMessage, Int64Value } from './messages.js';

/** The `InferTensorContents` field of each datatype; FP16 has none (raw contents only). */
export const CONTENTS_FIELD: { readonly [D in Datatype]: ContentsField | undefined } = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** `InferTensorContents` fields in field-number order (1–8). */
export const CONTENTS_FIELDS: readonly ContentsField[] = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

/**
 * Ranges of the datatypes carried in a wider wire field (int32 / uint32), so out-of-range values
 * are refused instead of silently wrapping, as the REST codec does.
 */
export const NARROW_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

/** The contents fields that hold elements (proto3 cannot tell an empty repeated field from an unset one). */
export function filledContentsFields(
  contents: InferTensorContentsMessage | null | undefined,
): ContentsField[] {
  if (!contents) return [];
  return CONTENTS_FIELDS.filter((f) => (contents[f]?.length ?? 0) > 0);
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

function toBigInts(values: readonly Int64Value[], unsigned: boolean, field: string): bigint[] {
  return values.map((v, i) => {
    let n: bigint;
    try {
      n = BigInt(v);
    } catch {
      throw bad(`${field}[${i}]`, `expected an integer, got ${JSON.stringify(v)}`);
    }
    if (unsigned && n < 0n) throw bad(`${field}[${i}]`, `UINT64 elements must be >= 0, got ${v}`);
    return n;
  });
}

/**
 * Reads a tensor's typed contents. `field` names the tensor in errors (`inputs[0] ("image")`);
 * `rawField` is where its raw form would go, for hints. Values in another datatype's field, an
 * element count that differs from the shape's, and integers out of the datatype's range are refused.
 */
export function tensorDataFromContents(
  datatype: Datatype,
  contents: InferTensorContentsMessage | null | undefined,
  shape: readonly number[],
  field: string,
  rawField = 'raw_input_contents',
): TensorData {
  const count = elementCount(shape);
  const expected = CONTENTS_FIELD[datatype];
  const stray = filledContentsFields(contents).find((f) => f !== expected);
  if (stray !== undefined) {
    const rule = expected
      ? `${datatype} data goes in contents.${expected}`
      : `FP16 has no typed contents field; send it in ${rawField}`;
    throw bad(`${field}.contents.${stray}`, rule);
  }
  if (expected === undefined) {
    if (count === 0) return new Uint16Array(0);
    throw bad(`${field}.contents`, `FP16 has no typed contents field; send it in ${rawField}`);
  }
  const values = contents?.[expected] ?? [];
  if (values.length !== count) {
    if (values.length === 0) {
      throw bad(`${field}.contents`, `required: ${count} elements in contents.${expected} (or ${rawField})`);
    }
    throw new InvalidRequestError(
      'FLT_DATA_SIZE_MISMATCH',
      `${field}.contents.${expected}: has ${values.length} elements but shape [${shape.join(',')}] holds ${count}`,
    );
  }
  const at = `${field}.contents.${expected}`;
  switch (datatype) {
    case 'BYTES':
      // Copies: the received message buffer should not stay pinned by one element.
      return (values as readonly Uint8Array[]).map((b) => Buffer.from(b)) as BytesArray;
    case 'BOOL':
      return Uint8Array.from(values as readonly boolean[], (v) => (v ? 1 : 0));
    case 'FP32':
    case 'FP64': {
      const out = new TYPED_ARRAY[datatype](count);
      out.set(values as readonly number[]);
      return out;
    }
    case 'INT64':
      return BigInt64Array.from(toBigInts(values as readonly Int64Value[], false, at));
    case 'UINT64':
      return BigUint64Array.from(toBigInts(values as readonly Int64Value[], true, at));
    default: {
      const [lo, hi] = NARROW_RANGE[datatype]!;
      const nums = values as readonly number[];
      for (let i = 0; i < nums.length; i++) {
        const v = nums[i]!;
        if (!Number.isInteger(v) || v < lo || v > hi)
          throw bad(`${at}[${i}]`, `${datatype} elements must be integers in [${lo}, ${hi}], got ${v}`);
      }
      const out = new TYPED_ARRAY[datatype](count);
      out.set(nums);
      return out;
    }
  }
}

/** A tensor's data as typed contents; undefined for FP16, which only travels raw. */
export function tensorDataToContents(t: Tensor): InferTensorContentsMessage | undefined {
  switch (t.datatype) {
    case 'FP16':
      return undefined;
    case 'BYTES':
      return { bytes_contents: t.data };
    case 'BOOL':
      return { bool_contents: Array.from(t.data, (v) => v !== 0) };
    case 'INT64':
    case 'UINT64':
      // Decimal strings keep every bit of a 64-bit value through protobufjs.
      return { [CONTENTS_FIELD[t.datatype]!]: Array.from(t.data, String) };
    default:
      return { [CONTENTS_FIELD[t.datatype]!]: Array.from(t.data) };
  }
}
