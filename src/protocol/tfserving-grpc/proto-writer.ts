/**
 * A small protobuf writer for the answers the TF Serving front end builds itself (PredictResponse
 * and the SignatureDefMap inside GetModelMetadata's `Any`): packed floats are copied as bytes,
 * not converted one by one into a JS array for protobufjs.
 */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private scratch: number[] = [];
  /** Bytes written so far. */
  length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.parts.push(Uint8Array.from(this.scratch));
    this.length += this.scratch.length;
    this.scratch = [];
  }

  /** An unsigned varint below 2^53. */
  varint(n: number): this {
    while (n >= 0x80) {
      this.scratch.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.scratch.push(n);
    return this;
  }

  /** A 64-bit varint (two's complement for negative values, ten bytes). */
  varint64(v: bigint): this {
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.scratch.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.scratch.push(Number(u));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  /** A length-delimited field holding `bytes` (not copied until `finish`). */
  bytes(field: number, bytes: Uint8Array): this {
    this.tag(field, 2).varint(bytes.byteLength);
    this.flushScratch();
    this.parts.push(bytes);
    this.length += bytes.byteLength;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  /** A length-delimited field holding another writer's message. */
  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  /** The message written, as one buffer. */
  finish(): Uint8Array {
    this.flushScratch();
    if (this.parts.length === 1) return this.parts[0]!;
    return Buffer.concat(this.parts, this.length);
  }
}
