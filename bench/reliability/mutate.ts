/**
 * The fuzzer's mutations, seeded: bit flips, truncation, duplication of a slice, edits of length
 * fields (protobuf lengths, the binary extension's header length, numbers in JSON) and swaps of
 * datatype names. Pure: same seed, same cases.
 */

import { seededRandom } from '../../src/core/index.js';

/** A seeded generator of floats in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.next();
}

/** An integer in [0, n). */
export const pick = (rand: () => number, n: number): number => Math.floor(rand() * n);

const EXTREMES = [
  '-1',
  '0',
  '1e308',
  '4294967296',
  '9007199254740993',
  '-9223372036854775809',
  '1.5',
  '""',
  'null',
  '[]',
];
const DATATYPES = [
  'BOOL',
  'UINT8',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
  'BYTES',
  'fp32',
  '',
];

/** The positions and widths of protobuf length prefixes in `buf` (nested messages too, best effort). */
export function protobufLengths(
  buf: Buffer,
  start = 0,
  end = buf.length,
  out: [number, number][] = [],
): [number, number][] {
  let i = start;
  const readVarint = (): number | undefined => {
    let n = 0;
    let mul = 1;
    for (let k = 0; k < 10 && i < end; k++) {
      const b = buf[i++]!;
      n += (b & 127) * mul;
      mul *= 128;
      if (b < 128) return n;
    }
    return undefined;
  };
  while (i < end) {
    const tag = readVarint();
    if (tag === undefined) return out;
    const wire = tag & 7;
    if (wire === 0) {
      if (readVarint() === undefined) return out;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const at = i;
      const len = readVarint();
      if (len === undefined || i + len > end) return out;
      out.push([at, i - at]);
      const before = out.length;
      // Recurse as if a message; a string or bytes field simply yields no (or junk) positions.
      protobufLengths(buf, i, i + len, out);
      if (out.length > before + 64) out.length = before;
      i += len;
    } else return out;
  }
  return out;
}

/** One mutation of `body`; `kind` says which (`json`, `binary` or `protobuf` decides the length edits). */
export function mutate(
  rand: () => number,
  body: Buffer,
  kind: 'json' | 'binary' | 'protobuf',
): { body: Buffer; what: string; headerLength?: string } {
  const m = pick(rand, 6);
  if (m === 0 && body.length > 0) {
    const out = Buffer.from(body);
    const bits = 1 + pick(rand, 8);
    for (let k = 0; k < bits; k++) {
      const at = pick(rand, out.length);
      out[at] = out[at]! ^ (1 << pick(rand, 8));
    }
    return { body: out, what: `flip ${bits} bits` };
  }
  if (m === 1) {
    const at = pick(rand, body.length + 1);
    return { body: body.subarray(0, at), what: `truncate at ${at}` };
  }
  if (m === 2) {
    const from = pick(rand, body.length + 1);
    const to = Math.min(body.length, from + 1 + pick(rand, 4096));
    const at = pick(rand, body.length + 1);
    const times = 1 + pick(rand, 4);
    const slice = body.subarray(from, to);
    return {
      body: Buffer.concat([body.subarray(0, at), ...Array<Buffer>(times).fill(slice), body.subarray(at)]),
      what: `duplicate ${to - from} bytes × ${times}`,
    };
  }
  if (m === 3 && kind === 'protobuf') {
    const lengths = protobufLengths(body);
    const [at, width] = lengths[pick(rand, lengths.length)] ?? [0, 0];
    const value = [0, 1, 127, 128, 0x7fffffff, body.length, body.length * 2][pick(rand, 7)]!;
    const v: number[] = [];
    let n = value;
    while (n > 127) {
      v.push((n & 127) | 128);
      n = Math.floor(n / 128);
    }
    v.push(n);
    return {
      body: Buffer.concat([body.subarray(0, at), Buffer.from(v), body.subarray(at + width)]),
      what: `length at ${at} := ${value}`,
    };
  }
  if (m === 3 && kind === 'binary') {
    const values = ['0', '-1', '', '1e2', '0x10', ' 12', '99999999999', String(body.length + 1), '+5', '7.5'];
    return { body, what: 'header length edit', headerLength: values[pick(rand, values.length)]! };
  }
  const text = body.toString('latin1');
  if (m === 4) {
    const numbers = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)].filter(
      (x) => x.index < 4096 || rand() < 0.01,
    );
    const n = numbers[pick(rand, numbers.length)];
    if (n) {
      const v = EXTREMES[pick(rand, EXTREMES.length)]!;
      return {
        body: Buffer.from(text.slice(0, n.index) + v + text.slice(n.index + n[0].length), 'latin1'),
        what: `number ${n[0]} := ${v}`,
      };
    }
  }
  const dt = DATATYPES[pick(rand, DATATYPES.length)]!;
  return { body: Buffer.from(text.replace('FP32', dt), 'latin1'), what: `datatype := ${dt}` };
}
