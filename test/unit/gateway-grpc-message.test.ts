import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError } from '../../src/core/index.js';
import {
  frame,
  MessageRenamer,
  quotedModelName,
  readModelName,
  readTfModelName,
  rewriteModelName,
  rewriteTfModelName,
} from '../../src/gateway/grpc/grpc-message.js';
import { oipGrpcServiceDefinition, percentEncodeGrpcMessage } from '../../src/protocol/oip-grpc/index.js';
import { tfDecode, tfEncode } from '../helpers/tf-protos.js';

const def = oipGrpcServiceDefinition();
const inferRequest = {
  model_name: 'digits',
  model_version: '2',
  id: 'req-1',
  inputs: [
    { name: 'image', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [0.5, 0.25, 0, 1] } },
  ],
};

describe('gRPC message routing', () => {
  it('reads the model name (field 1) of a ModelInfer request without decoding the rest', () => {
    const msg = frame(def['ModelInfer']!.requestSerialize(inferRequest));
    assert.equal(readModelName(msg), 'digits');
    assert.equal(
      readModelName(frame(def['ModelReady']!.requestSerialize({ name: 'mnist', version: '' }))),
      'mnist',
    );
  });

  it('rewrites the model name and keeps every other field, adjusting the frame length', () => {
    const msg = frame(def['ModelInfer']!.requestSerialize(inferRequest));
    const out = rewriteModelName(msg, 'a-much-longer-model-name');
    assert.equal(out.readUInt32BE(1), out.length - 5);
    const decoded = def['ModelInfer']!.requestDeserialize(out.subarray(5)) as typeof inferRequest;
    assert.equal(decoded.model_name, 'a-much-longer-model-name');
    assert.equal(decoded.model_version, '2');
    assert.equal(decoded.id, 'req-1');
    assert.deepEqual(decoded.inputs[0]!.shape.map(Number), [1, 4]);
  });

  it('finds nothing in incomplete, compressed or empty messages', () => {
    const msg = frame(def['ModelInfer']!.requestSerialize(inferRequest));
    assert.equal(readModelName(msg.subarray(0, msg.length - 1)), undefined);
    const compressed = Buffer.from(msg);
    compressed[0] = 1;
    assert.equal(readModelName(compressed), undefined);
    assert.equal(readModelName(frame(new Uint8Array(0))), undefined);
    assert.equal(rewriteModelName(compressed, 'x'), compressed);
  });
});

describe('gRPC message routing: strict, last field 1 wins (issue 19, finding 6)', () => {
  const refused = (message: RegExp) => (e: unknown) =>
    e instanceof FlotillaError && e.code === 'FLT_INVALID_PROTOBUF' && message.test(e.message);

  it('refuses a truncated model name instead of routing by its first bytes', () => {
    // model_name declared 5 bytes, 2 sent, in a complete gRPC frame.
    assert.throws(
      () => readModelName(frame(Uint8Array.of(0x0a, 0x05, 0x6d, 0x6e))),
      refused(/declares 5 bytes but 2 remain/),
    );
    assert.throws(
      () => readModelName(frame(Uint8Array.of(0x12, 0x09, 0x31))),
      refused(/field 2 declares 9 bytes/),
    );
    assert.throws(
      () => readModelName(frame(Uint8Array.of(0x0a, 0x02, 0xc3, 0x28))),
      refused(/not valid UTF-8/),
    );
    assert.throws(() => readModelName(frame(Uint8Array.of(0x08, 0x01))), refused(/wire type 0, expected 2/));
    assert.throws(() => readModelName(frame(Uint8Array.of(0x18, 0xff))), refused(/truncated varint/));
  });

  it('routes by the last model_name, the one the replica runs, and rewrites that one', () => {
    const two = frame(Uint8Array.of(0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62));
    assert.equal(readModelName(two), 'b');
    const out = rewriteModelName(two, 'mnist');
    const decoded = def['ModelInfer']!.requestDeserialize(out.subarray(5)) as { model_name: string };
    assert.equal(decoded.model_name, 'mnist');
  });

  it('quotes long model names cut, with their size', () => {
    assert.equal(quotedModelName('mnist'), 'mnist');
    assert.equal(quotedModelName('x'.repeat(1_000_000)), `${'x'.repeat(64)}… (1000000 bytes)`);
  });

  it('percent-encodes grpc-message as the gRPC spec says: only bytes outside 0x20-0x7E, and %', () => {
    assert.equal(percentEncodeGrpcMessage('known services: mnist, a/b'), 'known services: mnist, a/b');
    assert.equal(percentEncodeGrpcMessage('100% é\n'), '100%25 %C3%A9%0A');
    assert.equal(decodeURIComponent(percentEncodeGrpcMessage('x: "ü" 5%')), 'x: "ü" 5%');
  });
});

describe('gRPC message routing: TF Serving model_spec', () => {
  const predict = {
    model_spec: { name: 'digits', version_label: 'stable', signature_name: 'serving_default' },
    inputs: { image: { dtype: 'DT_FLOAT', float_val: [1] } },
    output_filter: ['probs'],
  };
  it('reads model_spec.name; repeated model_specs merge, the last name wins', () => {
    const bytes = tfEncode('tensorflow.serving.PredictRequest', predict);
    assert.equal(readTfModelName(frame(bytes)), 'digits');
    const again = tfEncode('tensorflow.serving.PredictRequest', { model_spec: { name: 'other' } });
    assert.equal(readTfModelName(frame(Buffer.concat([bytes, again]))), 'other');
    assert.equal(readTfModelName(frame(tfEncode('tensorflow.serving.PredictRequest', {}))), undefined);
    assert.throws(() => readTfModelName(frame(Buffer.from([0x0a, 0x09, 0x0a]))), FlotillaError);
  });
  it('renames the model in its model_spec, keeping version label, signature and the rest', () => {
    const renamed = rewriteTfModelName(
      frame(tfEncode('tensorflow.serving.PredictRequest', predict)),
      'mnist',
    );
    assert.equal(readTfModelName(renamed), 'mnist');
    assert.equal(renamed.readUInt32BE(1), renamed.length - 5);
    const decoded = tfDecode('tensorflow.serving.PredictRequest', renamed.subarray(5));
    assert.deepEqual(decoded['model_spec'], {
      name: 'mnist',
      version_label: 'stable',
      signature_name: 'serving_default',
    });
    assert.deepEqual(decoded['output_filter'], ['probs']);
  });
});

describe('MessageRenamer: every message of a request stream renamed', () => {
  const message = (id: string) => frame(def['ModelInfer']!.requestSerialize({ ...inferRequest, id }));
  const decode = (bytes: Buffer): { model_name: string; id: string }[] => {
    const out: { model_name: string; id: string }[] = [];
    for (let at = 0; at < bytes.length; ) {
      const len = bytes.readUInt32BE(at + 1);
      out.push(def['ModelInfer']!.requestDeserialize(bytes.subarray(at + 5, at + 5 + len)) as never);
      at += 5 + len;
    }
    return out;
  };

  it('renames whole messages and holds a part until the rest arrives, at every split', () => {
    const stream = Buffer.concat([message('a'), message('b'), message('c')]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const renamer = new MessageRenamer((m) => rewriteModelName(m, 'mnist'), 1 << 20);
      const out = Buffer.concat([
        renamer.renameWhole(stream.subarray(0, cut)),
        renamer.renameWhole(stream.subarray(cut)),
      ]);
      assert.deepEqual(
        decode(out).map((m) => [m.model_name, m.id]),
        [
          ['mnist', 'a'],
          ['mnist', 'b'],
          ['mnist', 'c'],
        ],
        `cut at ${cut}`,
      );
    }
  });

  it('refuses a message declared larger than the limit before holding it, and passes compressed ones', async () => {
    const renamer = new MessageRenamer((m) => rewriteModelName(m, 'mnist'), 64);
    const big = Buffer.alloc(5);
    big.writeUInt32BE(65, 1);
    assert.throws(
      () => renamer.renameWhole(big),
      (err: FlotillaError) => err.code === 'FLT_BODY_TOO_LARGE',
    );
    const compressed = Buffer.from([1, 0, 0, 0, 2, 0xaa, 0xbb]);
    const piped = new MessageRenamer((m) => rewriteModelName(m, 'mnist'), 64);
    const chunks: Buffer[] = [];
    piped.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => piped.on('end', resolve));
    piped.end(compressed);
    await ended;
    assert.deepEqual(Buffer.concat(chunks), compressed);
  });
});
