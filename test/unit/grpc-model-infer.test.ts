import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from '../../src/core/index.js';
import {
  decodeModelInferData,
  loadOipGrpcDefinition,
  OIP_GRPC_SERVICE,
  oipGrpcServiceDefinition,
  RejectedMessage,
  readModelInferEnvelope,
  readModelInferHeader,
  strictServiceDefinition,
} from '../../src/protocol/oip-grpc/index.js';
import { checkHeader, type ModelSpec } from '../../src/server/grpc/model-infer.js';

const MNIST: ModelSpec = {
  name: 'mnist',
  inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 784] }],
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
  maxBatchSize: 8,
};

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const field = (n: number, payload: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from([(n << 3) | 2, ...varint(payload.length)]), payload]);
const str = (n: number, s: string): Buffer => field(n, Buffer.from(s));
const repeat = (part: Buffer, times: number): Buffer => Buffer.concat(new Array<Buffer>(times).fill(part));
const image = (shape: number[], rest: Buffer = Buffer.alloc(0)): Buffer =>
  field(
    5,
    Buffer.concat([str(1, 'image'), str(2, 'FP32'), field(3, Buffer.from(shape.flatMap(varint))), rest]),
  );

/** The server's order: envelope, header within the model's limits, spec check, then data. */
function serverDecode(buf: Buffer, spec = MNIST) {
  const env = readModelInferEnvelope(buf);
  const header = readModelInferHeader(env, {
    inputs: spec.inputs.length + 1,
    outputs: spec.outputs.length + 1,
  });
  checkHeader(header, spec);
  return decodeModelInferData(header);
}

/** Refused with `code` within `ms`: work bounded by what the model takes, not by the claim. */
function refusedFast(buf: Buffer, code: string, message: RegExp, ms = 200): void {
  const started = performance.now();
  assert.throws(
    () => serverDecode(buf),
    (e: unknown) => e instanceof InvalidRequestError && e.code === code && message.test(e.message),
  );
  const took = performance.now() - started;
  assert.ok(took < ms, `${took} ms`);
}

describe('ModelInfer header checked against the model before the data (issue 19, finding 1)', () => {
  const model = str(1, 'mnist');

  it('refuses 4M empty bytes_contents by datatype or stray field, reading none of them', () => {
    const contents = field(5, repeat(Buffer.from([0x42, 0x00]), 4 * 1024 * 1024));
    const bytesInput = field(
      5,
      Buffer.concat([str(1, 'image'), str(2, 'BYTES'), field(3, Buffer.from([1, ...varint(784)])), contents]),
    );
    refusedFast(
      Buffer.concat([model, bytesInput]),
      'FLT_DATATYPE_MISMATCH',
      /datatype BYTES but model "mnist" takes FP32/,
    );
    refusedFast(
      Buffer.concat([model, image([1, 784], contents)]),
      'FLT_INVALID_FIELD',
      /bytes_contents: FP32 data goes in/,
    );
  });

  it('refuses a million inputs or outputs after reading one more than the model has', () => {
    refusedFast(
      Buffer.concat([model, repeat(image([1, 784]), 1_000_000)]),
      'FLT_INVALID_FIELD',
      /"image" is given twice/,
      2000,
    );
    const outputs = repeat(field(6, str(1, 'probs')), 1_000_000);
    refusedFast(
      Buffer.concat([model, image([1, 784]), outputs]),
      'FLT_INVALID_FIELD',
      /outputs: 1000000 requested but model "mnist" has 1/,
      2000,
    );
  });

  it('refuses a batch above max_batch_size before counting its elements', () => {
    const fp32 = field(6, Buffer.alloc(4 * 784));
    refusedFast(
      Buffer.concat([model, image([1_000_000, 784], field(5, fp32))]),
      'FLT_BATCH_TOO_LARGE',
      /batch dimension 1000000 exceeds max_batch_size 8/,
    );
  });

  it('bounds shapes at 64 dimensions and parameter maps at 256 entries', () => {
    refusedFast(
      Buffer.concat([model, image(new Array(1_000_000).fill(1))]),
      'FLT_INVALID_FIELD',
      /shape: has more than 64 dimensions/,
    );
    const entries = Array.from({ length: 300 }, (_, i) =>
      field(4, Buffer.concat([str(1, `k${i}`), field(2, Buffer.from([0x08, 1]))])),
    );
    refusedFast(
      Buffer.concat([model, image([1, 784]), ...entries]),
      'FLT_INVALID_FIELD',
      /^parameters: more than 256 entries$/,
    );
  });

  it('passes a valid request through to the same data', () => {
    const pixels = Buffer.alloc(4 * 784);
    pixels.writeFloatLE(0.5, 0);
    const { request } = serverDecode(Buffer.concat([model, image([1, 784], field(5, field(6, pixels)))]));
    assert.equal((request.inputs[0]!.data as Float32Array)[0], 0.5);
  });
});

describe('strict deserializers for the other RPCs (issue 19, finding 6)', () => {
  const strict = strictServiceDefinition(
    oipGrpcServiceDefinition(),
    loadOipGrpcDefinition(),
    new Set(['ModelInfer']),
  );
  const reference = loadOipGrpcDefinition()[OIP_GRPC_SERVICE] as unknown as typeof strict;

  it('reads valid requests as protobufjs does, nested maps included', () => {
    const load = {
      model_name: 'mnist',
      parameters: { config: { string_param: '{}' }, n: { int64_param: '3' } },
    };
    const bytes = reference['RepositoryModelLoad']!.requestSerialize(load);
    assert.deepEqual(
      strict['RepositoryModelLoad']!.requestDeserialize(bytes),
      reference['RepositoryModelLoad']!.requestDeserialize(bytes),
    );
    assert.deepEqual(strict['ModelReady']!.requestDeserialize(Buffer.from([0x0a, 1, 0x6d])), {
      name: 'm',
      version: '',
    });
  });

  it('hands a truncated or mis-typed request to the handler as a RejectedMessage (INVALID_ARGUMENT)', () => {
    for (const [method, bytes] of [
      ['ModelReady', [0x0a, 0x05, 0x6d, 0x6e]],
      ['ModelMetadata', [0x12, 0x01]],
      ['RepositoryIndex', [0x10, 0x80]],
      ['RepositoryModelLoad', [0x1a, 0x04, 0x12, 0x02, 0x1a, 0x05]],
      ['ServerLive', [0x0a, 0x05, 0x01]],
    ] as const) {
      const out = strict[method]!.requestDeserialize(Buffer.from(bytes));
      assert.ok(out instanceof RejectedMessage, method);
      assert.equal(out.error.code, 'FLT_INVALID_PROTOBUF', method);
    }
    // ModelInfer's handler takes the bytes themselves.
    const raw = Buffer.from([1, 2, 3]);
    assert.equal(strict['ModelInfer']!.requestDeserialize(raw), raw);
  });
});
