import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ClientDuplexStream,
  credentials,
  Client as GrpcClient,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { kserveClient, rejectsWith, TRITON_PROTO } from '../helpers/kserve-client.js';
import { argmaxRows, heldOutDigits } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

interface Duration {
  readonly count: number | string;
  readonly ns: number | string;
}
interface Stats {
  readonly name: string;
  readonly version: string;
  readonly last_inference: number | string;
  readonly inference_count: number | string;
  readonly execution_count: number | string;
  readonly inference_stats: Record<string, Duration>;
}

// Triton's extensions with clients that are not Flotilla's codec: fetch for REST, and a client
// generated at run time by proto-loader from proto/grpc_service.proto (Triton's numbering).
describe("Triton's statistics and model configuration extensions, REST and gRPC", () => {
  let server: FlotillaProcess;
  let grpc: ReturnType<typeof kserveClient>;
  const digits = heldOutDigits().slice(0, 10);
  const getJson = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, body: await res.json() };
  };
  const inferRest = async (version: string, rows: number, shape = [rows, 784]): Promise<number> => {
    const data = digits.slice(0, rows).flatMap((d) => [...d.pixels]);
    const res = await fetch(`${server.url}/v2/models/mnist/versions/${version}/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape, data }] }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  before(async () => {
    server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'mnist',
      '--poll-interval',
      '0',
    ]);
    grpc = kserveClient(server.grpcAddress, TRITON_PROTO);
  });
  after(async () => {
    grpc.close();
    assert.equal(await server.stop(), 0);
  });

  it('advertises the extensions in server metadata', async () => {
    const meta = (await getJson('/v2')).body as { extensions: string[] };
    assert.ok(meta.extensions.includes('statistics'));
    assert.ok(meta.extensions.includes('model_configuration'));
    assert.ok(meta.extensions.includes('classification'));
  });

  it("answers GET /v2/models/{m}/config and gRPC ModelConfig with Triton's ModelConfig", async () => {
    const rest = await getJson('/v2/models/mnist/config');
    assert.equal(rest.status, 200);
    const body = rest.body as Record<string, unknown> & { instance_group: { count: number }[] };
    const count = body.instance_group[0]!.count;
    assert.ok(Number.isInteger(count) && count >= 1, String(count));
    // Literal: mnist's config.yaml (max_batch_size 64, labels.txt, version_policy all, the
    // default dynamic batcher) and its ONNX graph (image FP32 [-1,784] -> probs FP32 [-1,10]).
    assert.deepEqual(body, {
      name: 'mnist',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      version_policy: { all: {} },
      max_batch_size: 64,
      input: [{ name: 'image', data_type: 'TYPE_FP32', dims: [784] }],
      output: [{ name: 'probs', data_type: 'TYPE_FP32', dims: [10], label_filename: 'labels.txt' }],
      dynamic_batching: {
        preferred_batch_size: [],
        max_queue_delay_microseconds: 0,
        default_queue_policy: {
          timeout_action: 'REJECT',
          default_timeout_microseconds: 0,
          allow_timeout_override: false,
          max_queue_size: 0,
        },
      },
      instance_group: [{ name: 'mnist', kind: 'KIND_CPU', count }],
      default_model_filename: 'model.onnx',
    });
    assert.deepEqual((await getJson('/v2/models/mnist/versions/1/config')).body, body);

    const { config } = await grpc.call<{ config: Record<string, unknown> }>('ModelConfig', {
      name: 'mnist',
      version: '2',
    });
    assert.equal(config['name'], 'mnist');
    assert.equal(config['platform'], 'onnxruntime_onnx');
    assert.equal(config['backend'], 'onnxruntime');
    assert.equal(config['max_batch_size'], 64);
    assert.equal(config['scheduling_choice'], 'dynamic_batching');
    assert.equal((config['version_policy'] as Record<string, unknown>)['policy_choice'], 'all');
    // proto-loader without `enums: String` hands enums as numbers: TYPE_FP32 = 11, KIND_CPU = 2.
    assert.deepEqual(config['input'], [{ name: 'image', data_type: 11, dims: ['784'] }]);
    assert.deepEqual(config['output'], [
      { name: 'probs', data_type: 11, dims: ['10'], label_filename: 'labels.txt' },
    ]);
    assert.deepEqual(config['instance_group'], [{ name: 'mnist', kind: 2, count }]);

    await rejectsWith(grpc.call('ModelConfig', { name: 'nope' }), status.NOT_FOUND, /"nope" is not found/);
    await rejectsWith(
      grpc.call('ModelConfig', { name: 'mnist', version: '7' }),
      status.NOT_FOUND,
      /no version 7/,
    );
    assert.equal((await getJson('/v2/models/nope/config')).status, 404);
  });

  it('counts inferences, executions and durations per version in statistics, REST and gRPC alike', async () => {
    const before = (await getJson('/v2/models/mnist/versions/2/stats')).body as { model_stats: Stats[] };
    assert.equal(before.model_stats.length, 1);
    const b = before.model_stats[0]!;
    // Five requests of batch 2, one after another: 10 inferences in 5 executions.
    for (let i = 0; i < 5; i++) assert.equal(await inferRest('2', 2), 200);
    const afterRest = (await getJson('/v2/models/mnist/versions/2/stats')).body as { model_stats: Stats[] };
    const a = afterRest.model_stats[0]!;
    assert.equal(a.name, 'mnist');
    assert.equal(a.version, '2');
    assert.equal(Number(a.inference_count) - Number(b.inference_count), 10);
    assert.equal(Number(a.execution_count) - Number(b.execution_count), 5);
    const s = a.inference_stats;
    assert.equal(Number(s['success']!.count) - Number(b.inference_stats['success']!.count), 5);
    assert.ok(Number(s['success']!.ns) > Number(b.inference_stats['success']!.ns));
    assert.ok(Number(s['compute_infer']!.ns) > 0);
    assert.ok(Number(s['compute_infer']!.ns) <= Number(s['success']!.ns));
    assert.deepEqual(s['compute_input'], { count: 0, ns: 0 });
    assert.deepEqual(s['compute_output'], { count: 0, ns: 0 });
    const last = Number(a.last_inference);
    assert.ok(Math.abs(Date.now() - last) < 60_000, `last_inference ${last}`);

    // gRPC answers the same numbers (uint64 as decimal strings, proto-loader's `longs: String`).
    const viaGrpc = await grpc.call<{ model_stats: Stats[] }>('ModelStatistics', {
      name: 'mnist',
      version: '2',
    });
    assert.equal(viaGrpc.model_stats.length, 1);
    const g = viaGrpc.model_stats[0]!;
    assert.equal(g.inference_count, String(a.inference_count));
    assert.equal(g.execution_count, String(a.execution_count));
    assert.equal(g.last_inference, String(a.last_inference));
    assert.deepEqual(g.inference_stats['success'], {
      count: String(s['success']!.count),
      ns: String(s['success']!.ns),
    });

    // Every model / every version: GET /v2/models/stats is the statistics, not a model "stats".
    const all = await getJson('/v2/models/stats');
    assert.equal(all.status, 200);
    const rows = (all.body as { model_stats: Stats[] }).model_stats.map((r) => `${r.name}:${r.version}`);
    assert.deepEqual(rows, ['mnist:1', 'mnist:2']);
    const one = (await getJson('/v2/models/mnist/stats')).body as { model_stats: Stats[] };
    assert.deepEqual(
      one.model_stats.map((r) => r.version),
      ['1', '2'],
    );
    const grpcAll = await grpc.call<{ model_stats: Stats[] }>('ModelStatistics', {});
    assert.deepEqual(
      grpcAll.model_stats.map((r) => `${r.name}:${r.version}`),
      ['mnist:1', 'mnist:2'],
    );
    assert.equal((await getJson('/v2/models/nope/stats')).status, 404);
    assert.equal((await getJson('/v2/models/mnist/versions/7/stats')).status, 404);
    await rejectsWith(grpc.call('ModelStatistics', { name: 'nope' }), status.NOT_FOUND, /not found/);
  });

  it('answers classification (top k "score:index:label", BYTES) over REST and gRPC with mnist', async () => {
    const rows = digits.slice(0, 4);
    const data = rows.flatMap((d) => [...d.pixels]);
    const image = { name: 'image', datatype: 'FP32', shape: [rows.length, 784] };
    const rest = async (outputs: object[]): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${server.url}/v2/models/mnist/versions/2/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ ...image, data }], outputs }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const plain = await rest([{ name: 'probs' }]);
    const probs = Float32Array.from((plain.body['outputs'] as { data: number[] }[])[0]!.data);
    const best = argmaxRows(probs, rows.length);
    // What Triton answers: per row the top k, best first, score with six decimals (std::to_string),
    // the class index and its line of labels.txt (mnist's labels are the digits).
    const expected = (k: number): string[] =>
      best.flatMap((_, r) => {
        const row = Array.from(probs.slice(r * 10, r * 10 + 10));
        const order = row.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
        return order.slice(0, k).map((i) => `${row[i]!.toFixed(6)}:${i}:${i}`);
      });

    const classified = await rest([{ name: 'probs', parameters: { classification: 3 } }]);
    assert.equal(classified.status, 200, JSON.stringify(classified.body));
    const out = (classified.body['outputs'] as Record<string, unknown>[])[0]!;
    assert.equal(out['datatype'], 'BYTES');
    assert.deepEqual(out['shape'], [rows.length, 3]);
    assert.deepEqual(out['data'], expected(3));
    // The top class of each row is the plain answer's argmax, and mostly the true digit.
    const tops = (out['data'] as string[]).filter((_, i) => i % 3 === 0).map((t) => Number(t.split(':')[1]));
    assert.deepEqual(tops, best);
    // KServe's spelling.
    const viaClassCount = await rest([{ name: 'probs', parameters: { class_count: 1 } }]);
    assert.deepEqual((viaClassCount.body['outputs'] as { data: string[] }[])[0]!.data, expected(1));

    // gRPC: Triton's InferRequestedOutputTensor.parameters["classification"] as int64_param.
    const answer = await grpc.call<{
      outputs: { name: string; datatype: string; shape: string[]; contents: { bytes_contents: Buffer[] } }[];
    }>('ModelInfer', {
      model_name: 'mnist',
      model_version: '2',
      inputs: [{ ...image, contents: { fp32_contents: data } }],
      outputs: [{ name: 'probs', parameters: { classification: { int64_param: 3 } } }],
    });
    const g = answer.outputs[0]!;
    assert.deepEqual([g.name, g.datatype, g.shape], ['probs', 'BYTES', [String(rows.length), '3']]);
    assert.deepEqual(
      g.contents.bytes_contents.map((b) => b.toString('utf8')),
      expected(3),
    );

    // Bad classifications: a clear 400 / INVALID_ARGUMENT, and the server keeps serving.
    for (const [parameters, message] of [
      [{ classification: 11 }, /^output "probs": classification 11 is larger than its 10 classes$/],
      [{ classification: 0 }, /parameters\.classification: 0 is not a positive integer/],
      [{ classification: 'three' }, /parameters\.classification: "three" is not a positive integer/],
      [{ class_count: 2.5 }, /parameters\.class_count: 2\.5 is not a positive integer/],
    ] as const) {
      const bad = await rest([{ name: 'probs', parameters }]);
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(String(bad.body['error']), message);
    }
    await rejectsWith(
      grpc.call('ModelInfer', {
        model_name: 'mnist',
        inputs: [{ ...image, contents: { fp32_contents: data } }],
        outputs: [{ name: 'probs', parameters: { classification: { int64_param: 1000 } } }],
      }),
      status.INVALID_ARGUMENT,
      /classification 1000 is larger than its 10 classes/,
    );
    assert.equal((await rest([{ name: 'probs', parameters: { classification: 1 } }])).status, 200);
  });

  it('streams inference with ModelStreamInfer: answers in order, garbage and bad requests answered with error_message, the stream goes on', async () => {
    const options = { keepCase: true, longs: String, bytes: Buffer, defaults: true, oneofs: true };
    const pkg = loadPackageDefinition(loadSync(TRITON_PROTO, options));
    const Service = (pkg['inference'] as GrpcObject)['GRPCInferenceService'] as ServiceClientConstructor;
    const method = Service.service['ModelStreamInfer']!;
    // A raw client: it sends bytes as given, so a message that is not protobuf can be sent too.
    const raw = new GrpcClient(server.grpcAddress, credentials.createInsecure());
    type Answer = {
      error_message: string;
      infer_response: { id: string; outputs: { name: string; datatype: string }[] } | null;
    };
    const stream: ClientDuplexStream<Buffer, Answer> = raw.makeBidiStreamRequest(
      method.path,
      (b: Buffer) => b,
      (b: Buffer) => method.responseDeserialize(b) as Answer,
    );
    const answers: Answer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (a: Answer) => answers.push(a));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    const request = (id: string, extra: object = {}): Buffer =>
      method.requestSerialize({
        model_name: 'mnist',
        id,
        inputs: [
          {
            name: 'image',
            datatype: 'FP32',
            shape: [1, 784],
            contents: { fp32_contents: Array.from(digits[0]!.pixels) },
          },
        ],
        ...extra,
      });
    stream.write(request('first'));
    stream.write(Buffer.from([0x0a, 0x7f, 0x6d])); // model_name declared 127 bytes, 1 sent
    stream.write(request('wrong-model', { model_name: 'nope' }));
    stream.write(
      request('classified', {
        outputs: [{ name: 'probs', parameters: { classification: { int64_param: 1 } } }],
      }),
    );
    stream.write(
      request('too-many', {
        outputs: [{ name: 'probs', parameters: { classification: { int64_param: 99 } } }],
      }),
    );
    // Past STREAM_MAX_PENDING (32) requests in flight the stream stops reading, and still answers all in order.
    for (let i = 0; i < 100; i++) stream.write(request(`bulk-${i}`));
    stream.write(request('last'));
    stream.end();
    await done;
    raw.close();
    assert.equal(answers.length, 106);
    assert.deepEqual(
      answers.map((a) => a.infer_response?.id ?? ''),
      ['first', '', '', 'classified', '', ...Array.from({ length: 100 }, (_, i) => `bulk-${i}`), 'last'],
    );
    assert.deepEqual(
      answers[0]!.infer_response!.outputs.map((o) => [o.name, o.datatype]),
      [['probs', 'FP32']],
    );
    assert.match(answers[1]!.error_message, /^ModelInferRequest: field 1 declares 127 bytes but 1 remain$/);
    assert.match(answers[2]!.error_message, /^model "nope" is not found$/);
    assert.deepEqual(
      answers[3]!.infer_response!.outputs.map((o) => o.datatype),
      ['BYTES'],
    );
    assert.match(answers[4]!.error_message, /classification 99 is larger than its 10 classes/);
    assert.equal(answers[105]!.error_message, '');
    // The server keeps serving unary calls.
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist' }), { ready: true });
  });
});
