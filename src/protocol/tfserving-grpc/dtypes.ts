import type { Datatype } from '../../core/index.js';

/**
 * TensorFlow's `DataType` numbers (tensorflow/core/framework/types.proto) and the TensorProto
 * field that carries each served datatype's values.
 */

/** Every DataType name up to DT_UINT64, by number, for error messages. */
const DT_NAMES = [
  'DT_INVALID',
  'DT_FLOAT',
  'DT_DOUBLE',
  'DT_INT32',
  'DT_UINT8',
  'DT_INT16',
  'DT_INT8',
  'DT_STRING',
  'DT_COMPLEX64',
  'DT_INT64',
  'DT_BOOL',
  'DT_QINT8',
  'DT_QUINT8',
  'DT_QINT32',
  'DT_BFLOAT16',
  'DT_QINT16',
  'DT_QUINT16',
  'DT_UINT16',
  'DT_COMPLEX128',
  'DT_HALF',
  'DT_RESOURCE',
  'DT_VARIANT',
  'DT_UINT32',
  'DT_UINT64',
] as const;

/** A DataType number as TensorFlow names it (`DT_FLOAT`), or `DataType 31` past the known ones. */
export function dtypeName(dtype: number): string {
  return DT_NAMES[dtype] ?? `DataType ${dtype}`;
}

/** The DataType of each datatype Flotilla serves. */
export const TF_DTYPE_NUMBER: { readonly [D in Datatype]: number } = {
  FP32: 1,
  FP64: 2,
  INT32: 3,
  UINT8: 4,
  INT16: 5,
  INT8: 6,
  BYTES: 7,
  INT64: 9,
  BOOL: 10,
  UINT16: 17,
  FP16: 19,
  UINT32: 22,
  UINT64: 23,
};

const BY_NUMBER = new Map<number, Datatype>(
  Object.entries(TF_DTYPE_NUMBER).map(([d, n]) => [n, d as Datatype]),
);

/** The datatype of a DataType number; undefined for those no model takes (complex, quantized, …). */
export function datatypeOfDtype(dtype: number): Datatype | undefined {
  return BY_NUMBER.get(dtype);
}

/** TensorProto's value fields, by field number. */
export const VALUE_FIELDS = {
  5: 'float_val',
  6: 'double_val',
  7: 'int_val',
  8: 'string_val',
  9: 'scomplex_val',
  10: 'int64_val',
  11: 'bool_val',
  12: 'dcomplex_val',
  13: 'half_val',
  14: 'resource_handle_val',
  15: 'variant_val',
  16: 'uint32_val',
  17: 'uint64_val',
} as const;

export type ValueField = keyof typeof VALUE_FIELDS;

/** Whether a field number is one of TensorProto's value fields. */
export function isValueField(field: number): field is ValueField {
  return field >= 5 && field <= 17;
}

/** The field carrying each datatype's values (TF puts the small integers in `int_val`). */
export const VALUE_FIELD_OF: { readonly [D in Datatype]: ValueField } = {
  FP32: 5,
  FP64: 6,
  INT32: 7,
  INT16: 7,
  INT8: 7,
  UINT8: 7,
  UINT16: 7,
  BYTES: 8,
  INT64: 10,
  BOOL: 11,
  FP16: 13,
  UINT32: 16,
  UINT64: 17,
};

/** Bytes per element of fixed-size value fields on the wire (packed); 0 for varints and bytes. */
export const FIXED_WIDTH: { readonly [F in ValueField]: number } = {
  5: 4,
  6: 8,
  7: 0,
  8: 0,
  9: 4,
  10: 0,
  11: 0,
  12: 8,
  13: 0,
  14: 0,
  15: 0,
  16: 0,
  17: 0,
};
