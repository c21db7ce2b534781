import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OipHttpClient } from '../../src/client/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits, mapConcurrent } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

describe('flotilla serve: MNIST over OIP v2 HTTP', () => {
  let server: FlotillaProcess;
  let client: OipHttpClient;
  const digits = heldOutDigits();

  before(async () => {
    server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'mnist',
      '--poll-interval',
      '0',
    ]);
    client = new OipHttpClient({ baseUrl: server.url, connections: 8 });
  });
  after(async () => {
    await client.close();
    assert.equal(await server.stop(), 0);
  });

  it('holds out 1,000 digits, 100 of each', () => {
    assert.equal(digits.length, 1000);
    for (let d = 0; d < 10; d++) assert.equal(digits.filter((x) => x.label === d).length, 100);
  });

  const accuracy: Record<string, number> = {};
  for (const version of ['1', '2']) {
    it(`classifies the held-out digits one request each with version ${version}`, async (t) => {
      const predicted = await mapConcurrent(digits, 8, async (digit) => {
        const res = await client.infer(digitsRequest([digit], version));
        assert.equal(res.model, 'mnist');
        assert.equal(res.version, version);
        const probs = res.outputs[0]!;
        assert.equal(probs.name, 'probs');
        assert.deepEqual(probs.shape, [1, 10]);
        return argmaxRows(probs.data as Float32Array, 1)[0]!;
      });
      accuracy[version] = predicted.filter((p, i) => p === digits[i]!.label).length / digits.length;
      t.diagnostic(`mnist version ${version} held-out accuracy: ${accuracy[version]!.toFixed(3)}`);
      assert.ok(
        accuracy[version]! > 0.5,
        `version ${version} accuracy ${accuracy[version]} is no better than chance`,
      );
    });
  }

  it('version 2 reaches 0.93 and beats version 1', () => {
    assert.ok(accuracy['2']! >= 0.93, `version 2 accuracy ${accuracy['2']}`);
    assert.ok(
      accuracy['2']! > accuracy['1']!,
      `version 2 (${accuracy['2']}) must beat version 1 (${accuracy['1']})`,
    );
  });

  it('answers a batch the same over JSON, binary inputs, and binary outputs', async () => {
    const batch = digits.filter((_, i) => i % 97 === 0);
    const req = { ...digitsRequest(batch, '2'), id: 'batch-1' };
    const json = await client.infer(req);
    const binIn = await client.infer(req, { binaryInputs: true });
    const binBoth = await client.infer(req, { binaryInputs: true, binaryOutputs: true });
    assert.equal(json.id, 'batch-1');
    assert.deepEqual(json.outputs[0]!.shape, [batch.length, 10]);
    const a = Array.from(json.outputs[0]!.data as Float32Array);
    assert.deepEqual(Array.from(binIn.outputs[0]!.data as Float32Array), a);
    assert.deepEqual(Array.from(binBoth.outputs[0]!.data as Float32Array), a);
    // Batched rows are the same as answering each digit alone.
    const single = await client.infer(digitsRequest([batch[1]!], '2'));
    assert.deepEqual(Array.from(single.outputs[0]!.data as Float32Array), a.slice(10, 20));
  });

  it('sends binary outputs with Inference-Header-Content-Length', async () => {
    const res = await fetch(`${server.url}/v2/models/mnist/versions/2/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: Array.from(digits[0]!.pixels) }],
        outputs: [{ name: 'probs', parameters: { binary_data: true } }],
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const body = Buffer.from(await res.arrayBuffer());
    const header = JSON.parse(body.subarray(0, headerLength).toString()) as {
      outputs: { parameters: { binary_data_size: number } }[];
    };
    assert.equal(header.outputs[0]!.parameters.binary_data_size, 40);
    assert.equal(body.byteLength, headerLength + 40);
  });

  it('describes the model: versions, inputs and outputs with datatypes and shapes', async () => {
    const meta = await client.getJson('/v2/models/mnist');
    assert.deepEqual(meta, {
      name: 'mnist',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 784] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
    });
    const v1 = await client.getJson<{ name: string }>('/v2/models/mnist/versions/1');
    assert.equal(v1.name, 'mnist');
  });

  it('answers health, server metadata and readiness endpoints', async () => {
    assert.equal(await client.status('/v2/health/live'), 200);
    assert.equal(await client.status('/v2/health/ready'), 200);
    assert.equal(await client.status('/v2/models/mnist/ready'), 200);
    assert.equal(await client.status('/v2/models/mnist/versions/2/ready'), 200);
    assert.equal(await client.status('/v2/models/mnist/versions/7/ready'), 404);
    const server_ = await client.getJson<{ name: string; extensions: string[] }>('/v2');
    assert.equal(server_.name, 'flotilla');
    assert.ok(server_.extensions.includes('binary_tensor_data'));
  });

  it('counts requests, inferences and executions in Prometheus metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string, version: string): number => {
      const m = new RegExp(`^${name}\\{model="mnist",version="${version}"\\} (\\S+)$`, 'm').exec(text);
      assert.ok(m, `${name} for version ${version} missing`);
      return Number(m[1]);
    };
    assert.equal(value('flotilla_inference_request_success_total', '1'), 1000);
    assert.ok(value('flotilla_inference_count_total', '2') >= 1000 + 11 * 3);
    // Dynamic batching joins concurrent requests: fewer executions than inferences, never more.
    const execs = value('flotilla_inference_exec_count_total', '2');
    assert.ok(execs > 0 && execs <= value('flotilla_inference_count_total', '2'));
    assert.match(
      text,
      /flotilla_inference_request_duration_seconds_bucket\{le="0.001",model="mnist",version="2"\}/,
    );
    assert.match(text, /flotilla_inference_queue_duration_seconds_count\{model="mnist",version="2"\}/);
    assert.match(text, /flotilla_inference_compute_duration_seconds_count\{model="mnist",version="2"\}/);
    assert.match(text, /flotilla_inference_pending_request_count\{model="mnist",version="2"\} 0/);
    assert.match(text, /flotilla_process_resident_memory_bytes/);
  });
});
