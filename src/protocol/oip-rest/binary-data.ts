import {
  type BytesArray,
  type Datatype,
  InvalidRequestError,
  type Tensor,
  type TensorData,
  TYPED_ARRAY,
} from '../../core/index.js';

/**
 * Reads a tensor from Triton's binary tensor data format: raw little-endian elements, or for
 * BYTES, each element as a 4-byte little-endian length followed by its bytes.
 * Numbers aligned for their type are read in place (a view of `bytes`: the caller does not reuse
 * them); others are copied into an aligned buffer.
 */
export function tensorDataFromBinary(
  datatype: Datatype,
  bytes: Uint8Array,
  count: number,
  field: string,
): TensorData {
  if (datatype === 'BYTES') {
    const out: BytesArray = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 0;
    while (off < bytes.byteLength) {
      if (off + 4 > bytes.byteLength) {
        throw new InvalidRequestError(
          'FLT_INVALID_BINARY',
          `${field}: BYTES element ${out.length} has a truncated length prefix`,
        );
      }
      const len = view.getUint32(off, true);
      off += 4;
      if (off + len > bytes.byteLength) {
        throw new InvalidRequestError(
          'FLT_INVALID_BINARY',
          `${field}: BYTES element ${out.length} runs past the end of its data`,
        );
      }
      out.push(Buffer.from(bytes.subarray(off, off + len)));
      off += len;
    }
    if (out.length !== count) {
      throw new InvalidRequestError(
        'FLT_DATA_SIZE_MISMATCH',
        `${field}: binary data holds ${out.length} BYTES elements but the shape holds ${count}`,
      );
    }
    return out;
  }
  const Ctor = TYPED_ARRAY[datatype];
  const expected = count * Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== expected) {
    throw new InvalidRequestError(
      'FLT_DATA_SIZE_MISMATCH',
      `${field}: binary data is ${bytes.byteLength} bytes but shape and ${datatype} need ${expected}`,
    );
  }
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
  const out = new Ctor(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** A tensor's data in the binary tensor data format (a view when no copy is needed). */
export function tensorDataToBinary(t: Tensor): Uint8Array {
  if (t.datatype !== 'BYTES') return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  let size = 0;
  for (const b of t.data) size += 4 + b.byteLength;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const b of t.data) {
    out.writeUInt32LE(b.byteLength, off);
    out.set(b, off + 4);
    off += 4 + b.byteLength;
  }
  return out;
}
