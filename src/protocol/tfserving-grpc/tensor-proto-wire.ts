import {
  type BytesArray,
  type Datatype,
  elementCount,
  type FixedDatatype,
  InvalidRequestError,
  type TensorData,
  TYPED_ARRAY,
} from '../../core/index.js';
import { MAX_RANK, WIRE, WireReader } from '../oip-grpc/index.js';
import {
  datatypeOfDtype,
  dtypeName,
  FIXED_WIDTH,
  isValueField,
  VALUE_FIELD_OF,
  VALUE_FIELDS,
  type ValueField,
} from './dtypes.js';

/**
 * `tensorflow.TensorProto` read in two passes: the header (dtype, shape, where tensor_content
 * lies, how many values each value field holds: counted, not read) and, once the model has
 * accepted the header, the values themselves into one typed array of the announced size.
 */

/** An input's TensorProto without its values. */
export interface TensorHeader {
  /** The map key: the signature's input alias, which is the model's input name. */
  readonly name: string;
  /** The DataType number as sent. */
  readonly dtype: number;
  readonly shape: readonly number[];
  /** The payload of tensor_content (the last one sent); undefined when absent or empty. */
  readonly content: { readonly start: number; readonly end: number } | undefined;
  /** Values each value field holds, by field number (packed and unpacked entries summed). */
  readonly counts: ReadonlyMap<ValueField, number>;
  /** The TensorProto's bytes, for the second pass. */
  readonly reader: WireReader;
  /** Names the tensor in errors: `inputs["images"]`. */
  readonly field: string;
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

/** `tensor_shape`: its dims' sizes, each a non-negative safe integer, at most MAX_RANK of them. */
function readShape(r: WireReader, field: string): number[] {
  const dims: number[] = [];
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 2) {
      r.expect(tag, WIRE.LEN, 'dim');
      if (dims.length >= MAX_RANK) throw bad(`${field}.tensor_shape`, `has more than ${MAX_RANK} dimensions`);
      const dim = r.sub(2, `${field}.tensor_shape.dim[${dims.length}]`);
      let size = 0;
      while (!dim.done) {
        const t = dim.tag();
        if (t >>> 3 === 1) {
          dim.expect(t, WIRE.VARINT, 'size');
          const lo = dim.varint();
          // A size that is negative (-1: unknown) or past 2^53 cannot be a request's shape.
          if (dim.hi >= 0x200000)
            throw bad(
              `${field}.tensor_shape.dim[${dims.length}].size`,
              'must be a non-negative integer (-1, "unknown", is for signatures, not requests)',
            );
          size = dim.hi * 2 ** 32 + lo;
        } else dim.skip(t & 7, t >>> 3);
      }
      dims.push(size);
    } else if (f === 3) {
      r.expect(tag, WIRE.VARINT, 'unknown_rank');
      if (r.varint() !== 0 || r.hi !== 0)
        throw bad(`${field}.tensor_shape.unknown_rank`, 'a request tensor must have a known shape');
    } else r.skip(tag & 7, f);
  }
  return dims;
}

/** Values in one entry of a value field: a packed run (counted) or one unpacked value. */
function countValues(r: WireReader, tag: number, f: ValueField, field: string): number {
  const wire = tag & 7;
  const width = FIXED_WIDTH[f];
  const name = VALUE_FIELDS[f];
  // string_val, resource_handle_val, variant_val: one message or string per entry.
  if (f === 8 || f === 14 || f === 15) {
    r.expect(tag, WIRE.LEN, name);
    r.pos = r.len(f);
    return 1;
  }
  if (wire === WIRE.LEN) {
    const end = r.len(f);
    const n = end - r.pos;
    let count: number;
    if (width > 0) {
      if (n % width !== 0) throw bad(`${field}.${name}`, `packed length ${n} is not a multiple of ${width}`);
      count = n / width;
    } else {
      // Varints: one ends at each byte below 0x80; the last byte must end one.
      count = 0;
      const { buf } = r;
      for (let i = r.pos; i < end; i++) if (buf[i]! < 0x80) count++;
      if (n > 0 && buf[end - 1]! >= 0x80) throw bad(`${field}.${name}`, 'ends inside a varint');
    }
    r.pos = end;
    return count;
  }
  r.expect(tag, width === 4 ? WIRE.I32 : width === 8 ? WIRE.I64 : WIRE.VARINT, name);
  r.skip(wire, f);
  return 1;
}

/** Reads a TensorProto's header; `r` spans its bytes (empty for an entry without a value). */
export function readTensorHeader(r: WireReader, name: string): TensorHeader {
  const field = `inputs[${JSON.stringify(name)}]`;
  const start = r.pos;
  let dtype = 0;
  let shape: number[] = [];
  let content: TensorHeader['content'];
  const counts = new Map<ValueField, number>();
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1) {
      r.expect(tag, WIRE.VARINT, 'dtype');
      dtype = r.varint();
      // Negative enum values travel as ten-byte varints: no DataType is negative.
      if (r.hi !== 0) dtype = -1;
    } else if (f === 2) {
      r.expect(tag, WIRE.LEN, 'tensor_shape');
      shape = readShape(r.sub(2, `${field}.tensor_shape`), field);
    } else if (f === 4) {
      r.expect(tag, WIRE.LEN, 'tensor_content');
      const end = r.len(4);
      content = end > r.pos ? { start: r.pos, end } : undefined;
      r.pos = end;
    } else if (isValueField(f)) {
      counts.set(f, (counts.get(f) ?? 0) + countValues(r, tag, f, field));
    } else r.skip(tag & 7, f);
  }
  return {
    name,
    dtype,
    shape,
    content,
    counts,
    reader: new WireReader(r.buf, start, r.end, field),
    field,
  };
}

/** The datatype a header's dtype names, or a 400 naming the dtype no model takes. */
export function headerDatatype(h: TensorHeader): Datatype {
  const d = datatypeOfDtype(h.dtype);
  if (d === undefined)
    throw bad(
      `${h.field}.dtype`,
      h.dtype === 0
        ? 'required (DT_INVALID means unset)'
        : `${dtypeName(h.dtype)} is not served (served: DT_FLOAT, DT_DOUBLE, DT_HALF, DT_INT8…DT_INT64, DT_UINT8…DT_UINT64, DT_BOOL, DT_STRING)`,
    );
  return d;
}

/** Integer ranges of the datatypes TF carries in int_val. */
const INT_VAL_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
};

/**
 * Checks, after the model accepted the header's shape, that the values match it: only the
 * dtype's own value field (or tensor_content) holds values, and as many as the shape holds
 * (`FLT_DATA_SIZE_MISMATCH` otherwise). TensorFlow would fill a short list with its last value;
 * that is refused here, so the elements decoded are bounded by the bytes received (one value
 * with a shape of 10^9 must not allocate gigabytes). Returns where the values are.
 */
function checkValues(h: TensorHeader, datatype: Datatype): 'content' | 'values' | 'empty' {
  const own = VALUE_FIELD_OF[datatype];
  for (const [f, n] of h.counts) {
    if (f !== own && n > 0)
      throw bad(
        `${h.field}.${VALUE_FIELDS[f]}`,
        `holds values but dtype ${dtypeName(h.dtype)} takes ${VALUE_FIELDS[own]} or tensor_content`,
      );
  }
  const n = elementCount(h.shape);
  const given = h.counts.get(own) ?? 0;
  const shapeText = `[${h.shape.join(',')}]`;
  if (h.content) {
    if (datatype === 'BYTES')
      throw bad(`${h.field}.tensor_content`, 'DT_STRING values go in string_val, not tensor_content');
    if (given > 0)
      throw bad(h.field, `give the values in ${VALUE_FIELDS[own]} or in tensor_content, not both`);
    const bytes = h.content.end - h.content.start;
    const width = TYPED_ARRAY[datatype as FixedDatatype].BYTES_PER_ELEMENT;
    if (bytes !== n * width)
      throw new InvalidRequestError(
        'FLT_DATA_SIZE_MISMATCH',
        `${h.field}.tensor_content: has ${bytes} bytes but shape ${shapeText} of ${dtypeName(h.dtype)} holds ${n * width} (${n} x ${width})`,
      );
    return 'content';
  }
  if (given === n) return n === 0 ? 'empty' : 'values';
  throw new InvalidRequestError(
    'FLT_DATA_SIZE_MISMATCH',
    `${h.field}.${VALUE_FIELDS[own]}: has ${given} values but shape ${shapeText} holds ${n}`,
  );
}

/** tensor_content (little-endian, row-major) as the datatype's typed array (a copy: aligned). */
function fromContent(h: TensorHeader, datatype: FixedDatatype, n: number): TensorData {
  const out = new TYPED_ARRAY[datatype](n);
  const bytes = h.reader.buf.subarray(h.content!.start, h.content!.end);
  // Every platform Node runs on here is little-endian, TensorFlow's wire order.
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  if (datatype === 'BOOL') for (let i = 0; i < n; i++) if (out[i]) out[i] = 1;
  return out;
}

/** Reads one value of a varint field from `r`, checked for the datatype's range. */
function readVarintValue(r: WireReader, datatype: Datatype, field: string, i: number): number | bigint {
  const lo = r.varint();
  const hi = r.hi;
  switch (datatype) {
    case 'INT64':
      return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    case 'UINT64':
      return (BigInt(hi) << 32n) | BigInt(lo);
    case 'BOOL':
      return lo !== 0 || hi !== 0 ? 1 : 0;
    case 'UINT32':
      if (hi !== 0) throw bad(`${field}[${i}]`, 'out of range for DT_UINT32');
      return lo;
    case 'FP16':
      if (hi !== 0 || lo > 0xffff) throw bad(`${field}[${i}]`, 'a half_val holds the 16 bits of a half');
      return lo;
    default: {
      // int_val is an int32: negative values are sign-extended to ten bytes.
      const v = lo | 0;
      if ((v < 0 && hi !== 0xffffffff) || (v >= 0 && hi !== 0))
        throw bad(`${field}[${i}]`, 'out of range for int32');
      const range = INT_VAL_RANGE[datatype];
      if (range && (v < range[0] || v > range[1]))
        throw bad(`${field}[${i}]`, `${v} is out of range for ${datatype} [${range[0]}, ${range[1]}]`);
      return v;
    }
  }
}

/**
 * The values of the dtype's own field, in order, into `out`. The first pass counted them, so
 * `out` holds exactly what arrives.
 */
function fromValues(h: TensorHeader, datatype: Datatype, out: TensorData): void {
  const own = VALUE_FIELD_OF[datatype];
  const name = `${h.field}.${VALUE_FIELDS[own]}`;
  const r = new WireReader(h.reader.buf, h.reader.pos, h.reader.end, h.field);
  const width = FIXED_WIDTH[own];
  let k = 0;
  const put = (v: number | bigint | Uint8Array): void => {
    (out as unknown as (number | bigint | Uint8Array)[])[k++] = v;
  };
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f !== own) {
      r.skip(tag & 7, f);
      continue;
    }
    if (own === 8) {
      const end = r.len(8);
      put(r.buf.subarray(r.pos, end));
      r.pos = end;
    } else if ((tag & 7) === WIRE.LEN) {
      const end = r.len(own);
      if (width > 0) {
        const bytes = r.buf.subarray(r.pos, end);
        const target = out as Float32Array | Float64Array;
        new Uint8Array(target.buffer, target.byteOffset + k * width, bytes.length).set(bytes);
        k += bytes.length / width;
        r.pos = end;
      } else {
        const packed = new WireReader(r.buf, r.pos, end, name);
        while (!packed.done) put(readVarintValue(packed, datatype, name, k));
        r.pos = end;
      }
    } else if (width === 4) {
      put(Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, 4).readFloatLE(0));
      r.pos += 4;
    } else if (width === 8) {
      put(Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, 8).readDoubleLE(0));
      r.pos += 8;
    } else put(readVarintValue(r, datatype, name, k));
  }
}

/**
 * Decodes the values of an input whose header the model accepted (datatype equal, shape
 * accepted): the element count is checked against the shape before anything is allocated.
 */
export function decodeTensorValues(h: TensorHeader, datatype: Datatype): TensorData {
  const where = checkValues(h, datatype);
  const n = elementCount(h.shape);
  if (where === 'content') return fromContent(h, datatype as FixedDatatype, n);
  if (datatype === 'BYTES') {
    const out: BytesArray = new Array(n);
    fromValues(h, datatype, out);
    return out;
  }
  const out = new TYPED_ARRAY[datatype](n);
  if (where !== 'empty') fromValues(h, datatype, out);
  return out;
}
