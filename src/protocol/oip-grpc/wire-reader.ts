import { InvalidRequestError } from '../../core/index.js';

/** Protobuf wire types Flotilla reads (groups, 3 and 4, are refused: no OIP message uses them). */
export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** Longest varint: ten bytes carry 64 bits. */
const MAX_VARINT_BYTES = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The error of a message that is not valid protobuf, naming where it broke. */
export function invalidProtobuf(where: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_PROTOBUF', `${where}: ${message}`);
}

/**
 * A strict protobuf reader over `buf[pos, end)`: a varint or a length that runs past `end`, a
 * varint longer than ten bytes, field number 0, a group and a string that is not UTF-8 are
 * `FLT_INVALID_PROTOBUF` errors, never values read from beyond the field (protobufjs's generated
 * decoders read a truncated string as its first bytes: `model_name` declared 5 bytes, 2 sent,
 * decoded as "mn"). Nothing here allocates per element: tensor data is left as byte ranges.
 */
export class WireReader {
  pos: number;
  /** High 32 bits of the last `varint` (low ones are its result): 64-bit fields read both. */
  hi = 0;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    /** Names the message in errors (`inputs[0]`). */
    readonly where: string,
  ) {
    this.pos = start;
  }

  /** Whether every byte is read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string): InvalidRequestError {
    return invalidProtobuf(this.where, message);
  }

  /** A varint: its low 32 bits as an unsigned number, the high ones in `hi`. */
  varint(): number {
    const { buf, end } = this;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= end) throw this.fail(`truncated varint at byte ${this.pos}`);
      const b = buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) {
        this.hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    throw this.fail(`varint longer than ${MAX_VARINT_BYTES} bytes at byte ${this.pos}`);
  }

  /** A field's tag: `field * 8 + wire type`, checked (field >= 1, a known wire type). */
  tag(): number {
    const tag = this.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0 || this.hi !== 0) throw this.fail(`invalid field number in tag at byte ${this.pos}`);
    if (wire !== WIRE.VARINT && wire !== WIRE.I64 && wire !== WIRE.LEN && wire !== WIRE.I32)
      throw this.fail(`field ${field} has wire type ${wire}, which no OIP message uses`);
    return tag;
  }

  /** The payload of a length-delimited field: its end offset, checked to lie inside this message. */
  len(field: number): number {
    const n = this.varint();
    if (this.hi !== 0 || n > this.end - this.pos)
      throw this.fail(
        `field ${field} declares ${this.hi === 0 ? n : 'over 2^32'} bytes but ${this.end - this.pos} remain`,
      );
    return this.pos + n;
  }

  /** A string field (UTF-8, as proto3 requires of strings). */
  string(field: number, name: string): string {
    const to = this.len(field);
    const bytes = this.buf.subarray(this.pos, to);
    this.pos = to;
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.fail(`${name} is not valid UTF-8`);
    }
  }

  /** Skips the value of a field of wire type `wire`, checking it lies inside the message. */
  skip(wire: number, field: number): void {
    if (wire === WIRE.VARINT) this.varint();
    else if (wire === WIRE.LEN) this.pos = this.len(field);
    else {
      const n = wire === WIRE.I64 ? 8 : 4;
      if (n > this.end - this.pos) throw this.fail(`field ${field} is truncated`);
      this.pos += n;
    }
  }

  /** Refuses a known field sent with another wire type (protobufjs would misread it). */
  expect(tag: number, wire: number, name: string): void {
    if ((tag & 7) !== wire)
      throw this.fail(`${name} (field ${tag >>> 3}) has wire type ${tag & 7}, expected ${wire}`);
  }

  /** A sub-reader over the payload of a length-delimited field (this one moves past it). */
  sub(field: number, where: string): WireReader {
    const to = this.len(field);
    const r = new WireReader(this.buf, this.pos, to, where);
    this.pos = to;
    return r;
  }
}

/** A 64-bit varint of two 32-bit halves as a decimal string (how proto-loader gives int64s). */
export function int64String(lo: number, hi: number, signed: boolean): string {
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  return (signed ? BigInt.asIntN(64, v) : v).toString();
}
