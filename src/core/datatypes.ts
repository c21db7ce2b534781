/**
 * Tensor datatypes of the Open Inference Protocol (the names Triton and KServe use on the wire),
 * with their in-memory representation and their onnxruntime names.
 */

/** Every datatype a tensor may carry. BF16 is absent because onnxruntime-node cannot feed it. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

/** Datatypes whose elements have a fixed size (everything but BYTES). */
export type FixedDatatype = Exclude<Datatype, 'BYTES'>;

/** The typed array that holds each fixed-size datatype; FP16 keeps raw IEEE half bits. */
export interface TypedArrayOf {
  BOOL: Uint8Array;
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Uint16Array;
  FP32: Float32Array;
  FP64: Float64Array;
}

export type NumericArray = TypedArrayOf[FixedDatatype];

interface TypedArrayConstructorOf<T> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** Constructors per fixed datatype. */
export const TYPED_ARRAY: { readonly [D in FixedDatatype]: TypedArrayConstructorOf<TypedArrayOf[D]> } = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** onnxruntime's type name for each datatype. */
export const ORT_TYPE: { readonly [D in Datatype]: string } = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const FROM_ORT: ReadonlyMap<string, Datatype> = new Map(DATATYPES.map((d) => [ORT_TYPE[d], d] as const));

/** The datatype for an onnxruntime type name, or undefined for types Flotilla cannot carry. */
export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return FROM_ORT.get(ortType);
}

/** Platform names ONNX type strings use in model files, e.g. `tensor(float)`. */
const FROM_ONNX_CONFIG: Readonly<Record<string, Datatype>> = {
  TYPE_BOOL: 'BOOL',
  TYPE_UINT8: 'UINT8',
  TYPE_UINT16: 'UINT16',
  TYPE_UINT32: 'UINT32',
  TYPE_UINT64: 'UINT64',
  TYPE_INT8: 'INT8',
  TYPE_INT16: 'INT16',
  TYPE_INT32: 'INT32',
  TYPE_INT64: 'INT64',
  TYPE_FP16: 'FP16',
  TYPE_FP32: 'FP32',
  TYPE_FP64: 'FP64',
  TYPE_STRING: 'BYTES',
};

/** Accepts both OIP names (`FP32`) and Triton config names (`TYPE_FP32`). */
export function parseDatatype(name: string): Datatype | undefined {
  if ((DATATYPES as readonly string[]).includes(name)) return name as Datatype;
  return FROM_ONNX_CONFIG[name];
}

export function isDatatype(name: string): name is Datatype {
  return (DATATYPES as readonly string[]).includes(name);
}

/** Bytes per element, or undefined for BYTES. */
export function elementSize(datatype: Datatype): number | undefined {
  return datatype === 'BYTES' ? undefined : TYPED_ARRAY[datatype].BYTES_PER_ELEMENT;
}
