/**
 * Just enough protobuf to route gRPC: read and replace field 1 (a string: the model name of every
 * `Model*` request of inference.GRPCInferenceService) in a length-prefixed gRPC message, without
 * decoding the rest; and TF Serving's `model_spec.name` (field 1 of field 1).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidRequestError } from '../../core/index.js';
import { WIRE, WireReader } from '../../protocol/oip-grpc/index.js';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Where field 1 (length-delimited) sits in a protobuf message, and its value. */
interface Field1 {
  readonly tagAt: number;
  readonly dataAt: number;
  readonly end: number;
  readonly value: string;
}

/**
 * The last field 1 of a complete protobuf message (protobuf's rule, and the replica's: the
 * model that runs is the one the gateway routed by), read strictly: a field running past the
 * message, a group, a field 1 that is not a string or not UTF-8 is `FLT_INVALID_PROTOBUF`.
 */
function findField1(msg: Uint8Array): Field1 | undefined {
  const r = new WireReader(msg, 0, msg.length, 'request message');
  let found: Field1 | undefined;
  while (!r.done) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag >>> 3 !== 1) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    r.expect(tag, WIRE.LEN, 'field 1 (the model name)');
    const value = r.string(1, 'the model name');
    const end = r.pos;
    found = { tagAt, dataAt: end - Buffer.byteLength(value, 'utf8'), end, value };
  }
  return found;
}

/** The length of the first gRPC message in `buf` once it is complete (prefix included). */
export function firstMessageLength(buf: Uint8Array): number | undefined {
  if (buf.length < 5) return undefined;
  const len = ((buf[1]! << 24) >>> 0) + (buf[2]! << 16) + (buf[3]! << 8) + buf[4]!;
  return buf.length >= 5 + len ? 5 + len : undefined;
}

/**
 * Field 1 of the first (uncompressed) gRPC message of `buf` as a string; undefined while that
 * message is incomplete, when it is compressed or when it has no field 1. Throws
 * `FLT_INVALID_PROTOBUF` when the complete message is not valid protobuf.
 */
export function readModelName(buf: Uint8Array): string | undefined {
  const total = firstMessageLength(buf);
  if (total === undefined || buf[0] !== 0) return undefined;
  return findField1(buf.subarray(5, total))?.value;
}

/** A model name as error messages quote it: cut to 64 characters, saying its full size. */
export function quotedModelName(name: string): string {
  return name.length <= 64 ? name : `${name.slice(0, 64)}… (${Buffer.byteLength(name, 'utf8')} bytes)`;
}

/** `buf` with (the last) field 1 of its first message set to `name`, the frame length adjusted. */
export function rewriteModelName(buf: Buffer, name: string): Buffer {
  const total = firstMessageLength(buf);
  if (total === undefined || buf[0] !== 0) return buf;
  const msg = buf.subarray(5, total);
  const body = replaceField1(msg, name);
  return body === msg ? buf : reframe(buf, total, body);
}

/** `buf` with its first message (ending at `total`) replaced by `body`, the rest as it came. */
function reframe(buf: Buffer, total: number, body: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body, buf.subarray(total)]);
}

/** The path prefix of TF Serving's services (tensorflow.serving.PredictionService, ModelService). */
export const TF_SERVING_PATH_PREFIX = '/tensorflow.serving.';

/**
 * TF Serving's `model_spec.name`: field 1 of field 1 of the first (uncompressed) message, which
 * every request of PredictionService and ModelService carries. Repeated model_spec fields merge
 * (protobuf's rule, and the server's), so the last name in any of them counts. Undefined while
 * the message is incomplete, compressed or names no model.
 */
export function readTfModelName(buf: Uint8Array): string | undefined {
  const total = firstMessageLength(buf);
  if (total === undefined || buf[0] !== 0) return undefined;
  const msg = buf.subarray(5, total);
  const r = new WireReader(msg, 0, msg.length, 'request message');
  let name: string | undefined;
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 !== 1) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    r.expect(tag, WIRE.LEN, 'model_spec');
    const end = r.len(1);
    name = findField1(msg.subarray(r.pos, end))?.value ?? name;
    r.pos = end;
  }
  return name;
}

/** `msg` with its (last) field 1 set to `name`; unchanged when it has none. */
function replaceField1(msg: Uint8Array, name: string): Uint8Array {
  const f = findField1(msg);
  if (!f) return msg;
  const value = Buffer.from(name, 'utf8');
  return Buffer.concat([
    msg.subarray(0, f.tagAt),
    Buffer.from([0x0a, ...varint(value.length)]),
    value,
    msg.subarray(f.end),
  ]);
}

/**
 * `buf` whose first message names model `name` in its model_spec: the name is replaced in every
 * model_spec that has one (they merge, the last name winning), each re-framed; version, label,
 * signature and the rest are copied as they came. (Appending a model_spec would do for protobuf's
 * merge, but protobufjs replaces a repeated message field instead of merging it.)
 */
export function rewriteTfModelName(buf: Buffer, name: string): Buffer {
  const total = firstMessageLength(buf);
  if (total === undefined || buf[0] !== 0) return buf;
  const msg = buf.subarray(5, total);
  const r = new WireReader(msg, 0, msg.length, 'request message');
  const parts: Uint8Array[] = [];
  let from = 0;
  while (!r.done) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag >>> 3 !== 1) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    r.expect(tag, WIRE.LEN, 'model_spec');
    const end = r.len(1);
    const spec = replaceField1(msg.subarray(r.pos, end), name);
    parts.push(msg.subarray(from, tagAt), Buffer.from([0x0a, ...varint(spec.length)]), spec);
    from = end;
    r.pos = end;
  }
  parts.push(msg.subarray(from));
  return reframe(buf, total, Buffer.concat(parts));
}

/** A gRPC message of raw protobuf bytes, length-prefixed. */
export function frame(protobuf: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + protobuf.length);
  out.writeUInt32BE(protobuf.length, 1);
  out.set(protobuf, 5);
  return out;
}

/**
 * The messages of a request stream, each renamed: a stream to a service whose variant serves the
 * model under another name (`modelName:`) names the service in every message, and the replica
 * knows only the model. Bytes in, whole renamed messages out; a message is held until complete,
 * so one declared larger than `limit` bytes ends the stream with `FLT_BODY_TOO_LARGE` instead of
 * being buffered. Compressed messages pass as they came (the gateway decodes none).
 */
export class MessageRenamer extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly rename: (message: Buffer) => Buffer,
    private readonly limit: number,
  ) {
    super();
  }

  /** The whole messages of `chunk` (after what was held), renamed; the rest is held. */
  renameWhole(chunk: Buffer): Buffer {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      if (buf.length >= 5 && buf.readUInt32BE(1) > this.limit) {
        throw new InvalidRequestError(
          'FLT_BODY_TOO_LARGE',
          `gRPC stream message of ${buf.readUInt32BE(1)} bytes, larger than ${this.limit}`,
        );
      }
      const total = firstMessageLength(buf);
      if (total === undefined) break;
      const message = buf.subarray(0, total);
      out.push(message[0] === 0 ? this.rename(message) : message);
      buf = buf.subarray(total);
    }
    this.pending = buf;
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      const out = this.renameWhole(chunk);
      done(null, out.length > 0 ? out : undefined);
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    // A stream that ends inside a message: the replica is sent the part, as it came.
    done(null, this.pending.length > 0 ? this.pending : undefined);
  }
}
