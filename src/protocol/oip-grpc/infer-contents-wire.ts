import {
  type BytesArray,
  type Datatype,
  elementCount,
  type FixedDatatype,
  InvalidRequestError,
  type TensorData,
  TYPED_ARRAY,
} from '../../core/index.js';
import { tensorDataFromBinary } from '../oip-rest/index.js';
import type { ContentsField } from './messages.js';
import { CONTENTS_FIELD, CONTENTS_FIELDS, NARROW_RANGE } from './tensor-contents.js';
import { WIRE, WireReader } from './wire-reader.js';

/** `InferTensorContents` fields by number (1–8). */
const FIELD_NAMES: readonly (ContentsField | undefined)[] = [undefined, ...CONTENTS_FIELDS];
const FIELD_NUMBER = new Map(FIELD_NAMES.map((n, i) => [n, i]));

/** The wire type of one unpacked element of each contents field (bytes is field 8). */
const ELEMENT_WIRE = (f: number): number =>
  f === 6 ? WIRE.I32 : f === 7 ? WIRE.I64 : f === 8 ? WIRE.LEN : WIRE.VARINT;

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

/** Where a tensor's contents lie and how to name it in errors. */
export interface ContentsRange {
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
  /** `inputs[0] ("image")`. */
  readonly field: string;
}

/** Elements in one occurrence of field `f` of wire type `wire`, payload [pos, end) for packed ones. */
function elementsIn(r: WireReader, f: number, wire: number): number {
  const unit = ELEMENT_WIRE(f);
  const name = FIELD_NAMES[f]!;
  if (wire === unit) {
    r.skip(wire, f);
    return 1;
  }
  r.expect(wire, WIRE.LEN, name);
  const end = r.len(f);
  const n = end - r.pos;
  let count: number;
  if (unit === WIRE.I32 || unit === WIRE.I64) {
    const size = unit === WIRE.I32 ? 4 : 8;
    if (n % size !== 0) throw r.fail(`packed ${name} is ${n} bytes, not a multiple of ${size}`);
    count = n / size;
  } else {
    // Packed varints: one element per byte without the continuation bit.
    count = 0;
    for (let i = r.pos; i < end; i++) if ((r.buf[i]! & 0x80) === 0) count++;
    if (n > 0 && (r.buf[end - 1]! & 0x80) !== 0) throw r.fail(`packed ${name} ends inside a varint`);
  }
  r.pos = end;
  return count;
}

/**
 * Counts the elements of contents field `want` without reading them, stopping past `limit`;
 * a field holding elements other than `want` is refused through `stray`.
 */
function countElements(
  c: ContentsRange,
  want: number | undefined,
  limit: number,
  stray: (name: ContentsField) => InvalidRequestError,
): number {
  const r = new WireReader(c.buf, c.start, c.end, `${c.field}.contents`);
  let total = 0;
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f > 8) {
      r.skip(tag & 7, f);
      continue;
    }
    const n = elementsIn(r, f, tag & 7);
    if (f !== want && n > 0) throw stray(FIELD_NAMES[f]!);
    if (f === want) {
      total += n;
      if (total > limit) return total;
    }
  }
  return total;
}

/** Reads the `count` elements of field `want` into a new array of the datatype. */
function readElements(c: ContentsRange, want: number, datatype: Datatype, count: number): TensorData {
  const at = `${c.field}.contents.${FIELD_NAMES[want]}`;
  const r = new WireReader(c.buf, c.start, c.end, `${c.field}.contents`);
  if (datatype === 'BYTES') {
    const out: BytesArray = [];
    while (!r.done) {
      const tag = r.tag();
      if (tag >>> 3 !== want) r.skip(tag & 7, tag >>> 3);
      else {
        const end = r.len(want);
        // Copies: the received message buffer should not stay pinned by one element.
        out.push(Buffer.from(r.buf.subarray(r.pos, end)));
        r.pos = end;
      }
    }
    return out;
  }
  const out = new TYPED_ARRAY[datatype as FixedDatatype](count);
  const bytes = new Uint8Array(out.buffer);
  const words = want === 3 || want === 5 ? new Uint32Array(out.buffer) : undefined;
  const range = NARROW_RANGE[datatype];
  let k = 0;
  const one = (e: WireReader): void => {
    if (want === 6 || want === 7) {
      const size = want === 6 ? 4 : 8;
      bytes.set(e.buf.subarray(e.pos, e.pos + size), k * size);
      e.pos += size;
    } else {
      const lo = e.varint();
      if (words) {
        // Little-endian halves of a 64-bit element, written without a BigInt per value.
        words[2 * k] = lo;
        words[2 * k + 1] = e.hi;
      } else if (want === 1) (out as Uint8Array)[k] = (lo | e.hi) !== 0 ? 1 : 0;
      else {
        const v = want === 2 ? lo | 0 : lo;
        if (range && (v < range[0] || v > range[1]))
          throw bad(
            `${at}[${k}]`,
            `${datatype} elements must be integers in [${range[0]}, ${range[1]}], got ${v}`,
          );
        (out as Int32Array)[k] = v;
      }
    }
    k++;
  };
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f !== want) r.skip(tag & 7, f);
    else if ((tag & 7) === WIRE.LEN && (want === 6 || want === 7)) {
      // Packed floats are little-endian already: one copy per chunk, not one per element.
      const end = r.len(f);
      bytes.set(r.buf.subarray(r.pos, end), k * (want === 6 ? 4 : 8));
      k += (end - r.pos) / (want === 6 ? 4 : 8);
      r.pos = end;
    } else if ((tag & 7) === WIRE.LEN) {
      const packed = r.sub(f, `${c.field}.contents`);
      while (!packed.done) one(packed);
      r.pos = packed.end;
    } else one(r);
  }
  return out;
}

/**
 * A tensor's typed contents, decoded only after the element count is known to match its shape:
 * memory is what the shape allows, whatever the message claims. Same checks and messages as
 * `tensorDataFromContents` (values in another datatype's field, counts, integer ranges).
 */
export function tensorDataFromContentsRange(
  datatype: Datatype,
  c: ContentsRange | undefined,
  shape: readonly number[],
  field: string,
  rawField = 'raw_input_contents',
): TensorData {
  const count = elementCount(shape);
  const expected = CONTENTS_FIELD[datatype];
  const want = expected === undefined ? undefined : FIELD_NUMBER.get(expected);
  const stray = (name: ContentsField): InvalidRequestError =>
    bad(
      `${field}.contents.${name}`,
      expected
        ? `${datatype} data goes in contents.${expected}`
        : `FP16 has no typed contents field; send it in ${rawField}`,
    );
  const found = c ? countElements(c, want, count, stray) : 0;
  if (want === undefined) {
    if (count === 0) return new Uint16Array(0);
    throw bad(`${field}.contents`, `FP16 has no typed contents field; send it in ${rawField}`);
  }
  if (!c && count === 0) return datatype === 'BYTES' ? [] : new TYPED_ARRAY[datatype](0);
  if (found !== count || !c) {
    if (found === 0)
      throw bad(`${field}.contents`, `required: ${count} elements in contents.${expected} (or ${rawField})`);
    throw new InvalidRequestError(
      'FLT_DATA_SIZE_MISMATCH',
      `${field}.contents.${expected}: has ${found > count ? 'more than ' + count : found} elements but shape [${shape.join(',')}] holds ${count}`,
    );
  }
  return readElements(c, want, datatype, count);
}

/** Refuses typed contents beside a raw entry (one or the other), without reading them. */
export function assertNoContents(c: ContentsRange | undefined, rawList: string): void {
  if (!c) return;
  countElements(c, undefined, 0, (name) =>
    bad(`${c.field}.contents.${name}`, `must be empty when ${rawList} is used (one or the other)`),
  );
}

/**
 * A raw entry as tensor data; BYTES elements are counted first (length prefixes only), so a
 * few MiB of empty elements are refused before one Buffer is made for each.
 */
export function tensorDataFromRaw(
  datatype: Datatype,
  raw: Uint8Array,
  shape: readonly number[],
  field: string,
): TensorData {
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    let n = 0;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let off = 0; off + 4 <= raw.byteLength && n <= count; n++) off += 4 + view.getUint32(off, true);
    if (n > count)
      throw new InvalidRequestError(
        'FLT_DATA_SIZE_MISMATCH',
        `${field}: binary data holds more than ${count} BYTES elements but the shape holds ${count}`,
      );
  }
  return tensorDataFromBinary(datatype, raw, count, field);
}
