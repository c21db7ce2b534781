import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frame, readModelName, rewriteModelName } from '../../src/gateway/grpc/grpc-message.js';
import { oipGrpcServiceDefinition } from '../../src/protocol/oip-grpc/index.js';

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
