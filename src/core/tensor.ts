import type { Datatype, FixedDatatype, NumericArray, TypedArrayOf } from './datatypes.js';

/** BYTES elements: each one an arbitrary byte string (UTF-8 text, an encoded image, …). */
export type BytesArray = Uint8Array[];

/** The in-memory data of a tensor, flattened in row-major order. */
export type TensorData = NumericArray | BytesArray;

/** A named tensor; `data` matches `datatype` (see `TypedArrayOf`; BYTES holds `Uint8Array[]`). */
export type Tensor = {
  [D in Datatype]: {
    readonly name: string;
    readonly datatype: D;
    readonly shape: readonly number[];
    readonly data: D extends FixedDatatype ? TypedArrayOf[D] : BytesArray;
  };
}[Datatype];

/** Number of elements a shape holds (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Builds a tensor, typed by its datatype. */
export function tensor<D extends Datatype>(
  name: string,
  datatype: D,
  shape: readonly number[],
  data: D extends FixedDatatype ? TypedArrayOf[D] : BytesArray,
): Tensor {
  return { name, datatype, shape, data } as Tensor;
}

/** Text of every element of a BYTES tensor, read as UTF-8. */
export function bytesToStrings(data: BytesArray): string[] {
  const decoder = new TextDecoder();
  return data.map((b) => decoder.decode(b));
}

/** BYTES elements holding the UTF-8 encoding of each string. */
export function stringsToBytes(values: readonly string[]): BytesArray {
  return values.map((s) => Buffer.from(s, 'utf8'));
}
