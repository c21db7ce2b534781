/**
 * Just enough protobuf to route gRPC: read and replace field 1 (a string: the model name of every
 * `Model*` request of inference.GRPCInferenceService) in a length-prefixed gRPC message, without
 * decoding the rest.
 */

/** A varint at `at`: its value and the offset after it; undefined if truncated or too long. */
function readVarint(buf: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && shift < 35; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Where field 1 (length-delimited) sits in a protobuf message. */
interface Field1 {
  readonly tagAt: number;
  readonly dataAt: number;
  readonly end: number;
}

function findField1(msg: Uint8Array): Field1 | undefined {
  let at = 0;
  while (at < msg.length) {
    const tag = readVarint(msg, at);
    if (!tag) return undefined;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value & 7;
    let next: number;
    if (wire === 0) {
      const v = readVarint(msg, tag.next);
      if (!v) return undefined;
      next = v.next;
    } else if (wire === 1) next = tag.next + 8;
    else if (wire === 5) next = tag.next + 4;
    else if (wire === 2) {
      const len = readVarint(msg, tag.next);
      if (!len) return undefined;
      next = len.next + len.value;
      if (field === 1) return next <= msg.length ? { tagAt: at, dataAt: len.next, end: next } : undefined;
    } else return undefined;
    at = next;
  }
  return undefined;
}

/** The length of the first gRPC message in `buf` once it is complete (prefix included). */
export function firstMessageLength(buf: Uint8Array): number | undefined {
  if (buf.length < 5) return undefined;
  const len = ((buf[1]! << 24) >>> 0) + (buf[2]! << 16) + (buf[3]! << 8) + buf[4]!;
  return buf.length >= 5 + len ? 5 + len : undefined;
}

/** Field 1 of the first (uncompressed) gRPC message of `buf` as a string. */
export function readModelName(buf: Uint8Array): string | undefined {
  const total = firstMessageLength(buf);
  if (total === undefined || buf[0] !== 0) return undefined;
  const msg = buf.subarray(5, total);
  const f = findField1(msg);
  return f
    ? Buffer.from(msg.buffer, msg.byteOffset + f.dataAt, f.end - f.dataAt).toString('utf8')
    : undefined;
}

/** `buf` with field 1 of its first message set to `name` (the frame length adjusted). */
export function rewriteModelName(buf: Buffer, name: string): Buffer {
  const total = firstMessageLength(buf);
  if (total === undefined || buf[0] !== 0) return buf;
  const msg = buf.subarray(5, total);
  const f = findField1(msg);
  if (!f) return buf;
  const value = Buffer.from(name, 'utf8');
  const field = Buffer.from([0x0a, ...varint(value.length)]);
  const body = Buffer.concat([msg.subarray(0, f.tagAt), field, value, msg.subarray(f.end)]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body, buf.subarray(total)]);
}

/** A gRPC message of raw protobuf bytes, length-prefixed. */
export function frame(protobuf: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + protobuf.length);
  out.writeUInt32BE(protobuf.length, 1);
  out.set(protobuf, 5);
  return out;
}
