import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MethodDefinition } from '@grpc/proto-loader';
import {
  DATATYPES,
  type Datatype,
  FlotillaError,
  type InferRequest,
  InvalidRequestError,
  type Random,
  seededRandom,
  type Tensor,
  toHalfBits,
} from '../../src/core/index.js';
import {
  decodeModelInferRequest,
  decodeModelInferWire,
  encodeModelInferRequest,
  loadOipGrpcDefinition,
  type ModelInferRequestMessage,
  OIP_GRPC_SERVICE,
} from '../../src/protocol/oip-grpc/index.js';

const modelInfer = (
  loadOipGrpcDefinition()[OIP_GRPC_SERVICE] as Record<string, MethodDefinition<object, object>>
)['ModelInfer']!;
const serialize = (m: ModelInferRequestMessage): Buffer => modelInfer.requestSerialize(m);

/** The reference: protobufjs through proto-loader, then the object decoder. */
const reference = (buf: Buffer) =>
  decodeModelInferRequest(modelInfer.requestDeserialize(buf) as ModelInferRequestMessage);

/** A decoded request in a form deepEqual compares fully (typed array class, BYTES as hex). */
const described = (d: ReturnType<typeof reference>): unknown => ({
  ...d,
  request: {
    ...d.request,
    inputs: d.request.inputs.map((t) => [
      t.name,
      t.datatype,
      t.shape,
      t.data.constructor.name === 'Buffer' ? 'Uint8Array' : t.data.constructor.name,
      Array.from(t.data as ArrayLike<unknown>, (v) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
      ),
    ]),
  },
});

/** Both decoders give the same request, or both refuse it with the same code and message. */
function sameAsReference(buf: Buffer, what: string): void {
  let expected: unknown;
  try {
    expected = described(reference(buf));
  } catch (err) {
    assert.ok(err instanceof FlotillaError, `${what}: reference threw ${String(err)}`);
    assert.throws(
      () => decodeModelInferWire(buf),
      (e: unknown) => e instanceof FlotillaError && e.code === err.code && e.message === err.message,
      `${what}: expected ${err.code} ${err.message}`,
    );
    return;
  }
  assert.deepEqual(described(decodeModelInferWire(buf)), expected, what);
}

const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r.next() * (hi - lo + 1));
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, 0, xs.length - 1)]!;

/** Random elements of a datatype, edge values included. */
function randomData(r: Random, datatype: Datatype, n: number): Tensor['data'] {
  const u = (bits: number): bigint => BigInt(Math.floor(r.next() * 2 ** 32)) % 2n ** BigInt(bits);
  switch (datatype) {
    case 'BYTES':
      return Array.from({ length: n }, () =>
        Buffer.from(Array.from({ length: int(r, 0, 5) }, () => int(r, 0, 255))),
      );
    case 'BOOL':
      return Uint8Array.from({ length: n }, () => int(r, 0, 1));
    case 'INT64':
      return BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, (u(32) << 32n) | u(32)));
    case 'UINT64':
      return BigUint64Array.from({ length: n }, () => (u(32) << 32n) | u(32));
    case 'FP16':
      return Uint16Array.from({ length: n }, () => toHalfBits((r.next() - 0.5) * 100));
    case 'FP32':
      return Float32Array.from({ length: n }, () => (r.next() - 0.5) * 1e6);
    case 'FP64':
      return Float64Array.from({ length: n }, () => (r.next() - 0.5) * 1e300);
    case 'INT8':
      return Int8Array.from({ length: n }, () => int(r, -128, 127));
    case 'UINT8':
      return Uint8Array.from({ length: n }, () => int(r, 0, 255));
    case 'INT16':
      return Int16Array.from({ length: n }, () => int(r, -32768, 32767));
    case 'UINT16':
      return Uint16Array.from({ length: n }, () => int(r, 0, 65535));
    case 'INT32':
      return Int32Array.from({ length: n }, () => int(r, -(2 ** 31), 2 ** 31 - 1));
    case 'UINT32':
      return Uint32Array.from({ length: n }, () => int(r, 0, 2 ** 32 - 1));
  }
}

/** A random valid request: 1–3 inputs of any datatype, outputs and parameters now and then. */
function randomRequest(r: Random): { req: InferRequest; raw: boolean } {
  const inputs = Array.from({ length: int(r, 1, 3) }, (_, i): Tensor => {
    const datatype = pick(r, DATATYPES);
    const shape = Array.from({ length: int(r, 0, 3) }, () => int(r, 0, 4));
    const n = shape.reduce((a, b) => a * b, 1);
    return { name: `in${i}-é`, datatype, shape, data: randomData(r, datatype, n) } as Tensor;
  });
  const param = (): InferRequest['parameters'] =>
    r.next() < 0.5 ? undefined : { a: int(r, -5, 5), b: 'x', c: r.next() < 0.5, d: 1.25 };
  const parameters = param();
  const req: InferRequest = {
    model: pick(r, ['m', 'mnist', 'ocr_det']),
    ...(r.next() < 0.5 ? { version: String(int(r, 1, 9)) } : {}),
    ...(r.next() < 0.5 ? { id: `r${int(r, 0, 99)}` } : {}),
    inputs,
    ...(r.next() < 0.3 ? { outputs: [{ name: 'y' }, { name: 'z', parameters: { k: 3 } }] } : {}),
    ...(parameters ? { parameters } : {}),
  };
  return { req, raw: r.next() < 0.4 };
}

describe('ModelInfer wire decoder: same values as protobufjs + decodeModelInferRequest', () => {
  it('decodes 2,000 seeded random requests (every datatype, raw and typed) exactly as the reference', () => {
    const r = seededRandom(19);
    for (let i = 0; i < 2000; i++) {
      const { req, raw } = randomRequest(r);
      sameAsReference(serialize(encodeModelInferRequest(req, { raw })), `case ${i}`);
    }
  });

  it('reads unpacked repeated fields and split packed chunks as protobufjs does', () => {
    // inputs { name "x" datatype "INT32" shape 2 (unpacked) contents { int_contents 7, -1 (unpacked) } }
    const contents = [0x10, 0x07, 0x10, ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]];
    const input = [
      0x0a,
      1,
      0x78,
      0x12,
      5,
      ...Buffer.from('INT32'),
      0x18,
      0x02,
      0x2a,
      contents.length,
      ...contents,
    ];
    sameAsReference(Buffer.from([0x0a, 1, 0x6d, 0x2a, input.length, ...input]), 'unpacked');
    // fp32_contents in two packed chunks, shape in two packed chunks: [1] + [2].
    const f = Buffer.alloc(8);
    f.writeFloatLE(1.5, 0);
    f.writeFloatLE(-2, 4);
    const fc = [0x32, 4, ...f.subarray(0, 4), 0x32, 4, ...f.subarray(4)];
    const input2 = [
      0x0a,
      1,
      0x78,
      0x12,
      4,
      ...Buffer.from('FP32'),
      0x1a,
      1,
      1,
      0x1a,
      1,
      2,
      0x2a,
      fc.length,
      ...fc,
    ];
    sameAsReference(Buffer.from([0x2a, input2.length, ...input2]), 'chunks');
  });

  it('refuses what the reference refuses, with the same code and message', () => {
    const bad: ModelInferRequestMessage[] = [
      { model_name: 'm', inputs: [] },
      { inputs: [{ name: '', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] },
      { inputs: [{ name: 'x', datatype: 'FP8', shape: [1] }] },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }] },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: ['9007199254740993'] }] },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], contents: { fp32_contents: [1, 2, 3] } }] },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2] }] },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { int_contents: [1] } }] },
      { inputs: [{ name: 'x', datatype: 'FP16', shape: [1] }] },
      { inputs: [{ name: 'x', datatype: 'INT8', shape: [2], contents: { int_contents: [1, 300] } }] },
      { inputs: [{ name: 'x', datatype: 'UINT16', shape: [1], contents: { uint_contents: [70000] } }] },
      { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1] }], raw_input_contents: [Buffer.from([1, 0])] },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }], raw_input_contents: [Buffer.alloc(8)] },
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
        raw_input_contents: [Buffer.alloc(4)],
      },
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }, { name: 'y' }],
        raw_input_contents: [Buffer.alloc(4)],
      },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [0] }], parameters: { p: {} } },
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [0] }], outputs: [{ name: '' }] },
    ];
    for (const [i, m] of bad.entries()) {
      const buf = serialize(m);
      assert.throws(() => reference(buf), FlotillaError, `case ${i} should be refused by the reference`);
      sameAsReference(buf, `bad case ${i}`);
    }
  });
});

/** An InvalidRequestError of `code`, whose message matches. */
const refused = (code: string, message: RegExp) => (e: unknown) =>
  e instanceof InvalidRequestError && e.code === code && message.test(e.message);

describe('ModelInfer wire decoder: strict about framing', () => {
  it('refuses a truncated model_name (5 bytes declared, 2 sent) that protobufjs reads as "mn"', () => {
    const buf = Buffer.from([0x0a, 0x05, 0x6d, 0x6e]);
    assert.equal((modelInfer.requestDeserialize(buf) as ModelInferRequestMessage).model_name, 'mn');
    assert.throws(
      () => decodeModelInferWire(buf),
      refused('FLT_INVALID_PROTOBUF', /^ModelInferRequest: field 1 declares 5 bytes but 2 remain$/),
    );
  });

  it('refuses truncation inside a nested message, broken varints, wrong wire types, groups and bad UTF-8', () => {
    const cases: readonly [string, number[], RegExp][] = [
      [
        'a truncated input name',
        [0x2a, 0x04, 0x0a, 0x05, 0x6d, 0x6e],
        /^inputs\[0\]: field 1 declares 5 bytes/,
      ],
      ['a truncated tag', [0x2a, 0x01, 0x8a], /^inputs\[0\]: truncated varint/],
      ['an eleven-byte varint', [0x48, ...new Array(10).fill(0xff), 0x01], /varint longer than 10 bytes/],
      ['model_name sent as a varint', [0x08, 0x05], /model_name \(field 1\) has wire type 0, expected 2/],
      ['a group', [0x0b, 0x0c], /field 1 has wire type 3/],
      ['field number 0', [0x02, 0x00], /invalid field number/],
      ['a model_name that is not UTF-8', [0x0a, 0x02, 0xc3, 0x28], /model_name is not valid UTF-8/],
      ['a length past 2^32', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f], /declares over 2\^32 bytes/],
    ];
    for (const [what, bytes, message] of cases)
      assert.throws(
        () => decodeModelInferWire(Buffer.from(bytes)),
        refused('FLT_INVALID_PROTOBUF', message),
        what,
      );
  });

  it('counts before it allocates: a shape of 2^40 elements with one value is refused without a 2^40 array', () => {
    const buf = serialize({
      inputs: [{ name: 'x', datatype: 'FP64', shape: [2 ** 20, 2 ** 20], contents: { fp64_contents: [1] } }],
    });
    assert.throws(
      () => decodeModelInferWire(buf),
      refused('FLT_DATA_SIZE_MISMATCH', /has 1 elements but shape \[1048576,1048576\] holds 1099511627776/),
    );
  });

  it('fuzz: 5,000 seeded mutations are decoded or refused with InvalidRequestError, and never grow past the message', () => {
    const r = seededRandom(6);
    let refusedCount = 0;
    for (let i = 0; i < 5000; i++) {
      const { req, raw } = randomRequest(r);
      const buf = Buffer.from(serialize(encodeModelInferRequest(req, { raw })));
      const mutations = int(r, 1, 4);
      let bytes: Buffer = buf;
      for (let m = 0; m < mutations; m++) {
        const at = int(r, 0, Math.max(0, bytes.length - 1));
        const kind = int(r, 0, 3);
        if (kind === 0 && bytes.length > 0) bytes[at] = int(r, 0, 255);
        else if (kind === 1) bytes = bytes.subarray(0, at);
        else if (kind === 2)
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([int(r, 0, 255)]), bytes.subarray(at)]);
        else
          bytes = Buffer.concat([
            bytes.subarray(0, at),
            Buffer.from([0xff, 0xff, 0xff, 0x7f]),
            bytes.subarray(at),
          ]);
      }
      try {
        const { request } = decodeModelInferWire(bytes);
        // Every element decoded takes at least one byte of the message (BYTES ones two).
        const elements = request.inputs.reduce((n, t) => n + t.data.length, 0);
        assert.ok(elements <= bytes.length, `case ${i}: ${elements} elements from ${bytes.length} bytes`);
      } catch (err) {
        assert.ok(err instanceof InvalidRequestError, `case ${i}: threw ${String(err)}`);
        refusedCount++;
      }
    }
    assert.ok(refusedCount > 1000, `only ${refusedCount} mutations refused`);
  });
});
