import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { kserveClient, rejectsWith, TRITON_PROTO } from '../helpers/kserve-client.js';
import { heldOutDigits } from '../helpers/mnist.js';
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
});
