import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ServiceError, status } from '@grpc/grpc-js';
import { OipHttpClient } from '../../src/client/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { bearer, kserveClient, rejectsWith } from '../helpers/kserve-client.js';
import { argmaxRows, digitsRequest, heldOutDigits, mapConcurrent } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';
import { tempRepository } from '../helpers/temp-repo.js';

/** The parts of a ModelInferResponse the MNIST test reads. */
interface InferAnswer {
  readonly model_name: string;
  readonly model_version: string;
  readonly id: string;
  readonly outputs: readonly Record<string, unknown>[];
  readonly raw_output_contents: readonly Buffer[];
}

const TOKEN = 'grpc-s3cret';

describe('OIP v2 over gRPC: a KServe-generated client against flotilla serve', () => {
  let server: FlotillaProcess;
  let grpc: ReturnType<typeof kserveClient>;
  const digits = heldOutDigits();

  before(async () => {
    server = await startServe(
      ['--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--poll-interval', '0'],
      { env: { FLOTILLA_ADMIN_TOKEN: TOKEN } },
    );
    assert.match(server.grpcAddress, /^127\.0\.0\.1:\d+$/);
    grpc = kserveClient(server.grpcAddress);
  });
  after(async () => {
    grpc.close();
    assert.equal(await server.stop(), 0);
  });

  it('answers ServerLive, ServerReady, ModelReady and ServerMetadata', async () => {
    assert.deepEqual(await grpc.call('ServerLive', {}), { live: true });
    assert.deepEqual(await grpc.call('ServerReady', {}), { ready: true });
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist' }), { ready: true });
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist', version: '2' }), { ready: true });
    // Triton's answer to a model or version it does not have: OK with ready false, not an error.
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist', version: '7' }), { ready: false });
    assert.deepEqual(await grpc.call('ModelReady', { name: 'nope' }), { ready: false });
    // A name or version no model can have is the client's mistake, and says so.
    await rejectsWith(
      grpc.call('ModelReady', { name: 'mnist', version: 'x' }),
      status.INVALID_ARGUMENT,
      /version: "x" is not a positive integer/,
    );
    // REST's GET /v2 has the same three fields: name, version, extensions.
    const rest = (await (await fetch(`${server.url}/v2`)).json()) as Record<string, unknown>;
    assert.deepEqual(await grpc.call('ServerMetadata', {}), { ...rest, name: 'flotilla' });
  });

  it('describes the model as REST does', async () => {
    assert.deepEqual(await grpc.call('ModelMetadata', { name: 'mnist' }), {
      name: 'mnist',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'image', datatype: 'FP32', shape: ['-1', '784'] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: ['-1', '10'] }],
    });
    await rejectsWith(grpc.call('ModelMetadata', { name: 'nope' }), status.NOT_FOUND, /not found/);
  });

  it('classifies the 1,000 held-out digits with typed and raw contents exactly as HTTP does', async (t) => {
    const http = new OipHttpClient({ baseUrl: server.url, connections: 8 });
    const viaHttp = await mapConcurrent(digits, 8, async (d) => {
      const res = await http.infer(digitsRequest([d], '2'));
      return argmaxRows(res.outputs[0]!.data as Float32Array, 1)[0]!;
    });
    await http.close();
    const viaGrpc = async (raw: boolean): Promise<number[]> =>
      mapConcurrent(digits, 8, async (d, i) => {
        const image = { name: 'image', datatype: 'FP32', shape: [1, 784] };
        const res = await grpc.call<InferAnswer>('ModelInfer', {
          model_name: 'mnist',
          model_version: '2',
          id: `digit-${i}`,
          inputs: [raw ? image : { ...image, contents: { fp32_contents: Array.from(d.pixels) } }],
          raw_input_contents: raw
            ? [Buffer.from(d.pixels.buffer, d.pixels.byteOffset, d.pixels.byteLength)]
            : [],
        });
        assert.deepEqual([res.model_name, res.model_version, res.id], ['mnist', '2', `digit-${i}`]);
        const { name, datatype, shape, contents } = res.outputs[0]!;
        assert.deepEqual([name, datatype, shape], ['probs', 'FP32', ['1', '10']]);
        // Triton's rule: a raw request gets a raw answer, a typed one typed contents.
        assert.deepEqual([contents === null, res.raw_output_contents.length], [raw, raw ? 1 : 0]);
        const probs = raw
          ? new Float32Array(new Uint8Array(res.raw_output_contents[0]!).buffer)
          : Float32Array.from((contents as { fp32_contents: number[] }).fp32_contents);
        return argmaxRows(probs, 1)[0]!;
      });
    const typed = await viaGrpc(false);
    const raw = await viaGrpc(true);
    const accuracy = (p: number[]): number =>
      p.filter((x, i) => x === digits[i]!.label).length / digits.length;
    t.diagnostic(`mnist v2 held-out accuracy: http ${accuracy(viaHttp).toFixed(3)}`);
    t.diagnostic(
      `grpc fp32_contents ${accuracy(typed).toFixed(3)}, grpc raw_input_contents ${accuracy(raw).toFixed(3)}`,
    );
    assert.ok(accuracy(typed) >= 0.93, `accuracy ${accuracy(typed)}`);
    assert.deepEqual(typed, viaHttp);
    assert.deepEqual(raw, viaHttp);
  });

  it('maps bad input to gRPC status codes with the REST messages and the error code in trailers', async () => {
    const zeros = (n: number): number[] => new Array(n).fill(0);
    const image = (patch: object, request: object = {}): object => ({
      model_name: 'mnist',
      inputs: [
        {
          name: 'image',
          datatype: 'FP32',
          shape: [1, 784],
          contents: { fp32_contents: zeros(784) },
          ...patch,
        },
      ],
      ...request,
    });
    const cases: readonly [object, status, RegExp][] = [
      [image({}, { model_name: 'nope' }), status.NOT_FOUND, /^model "nope" is not found$/],
      [image({}, { model_version: '9' }), status.NOT_FOUND, /has no version 9/],
      [
        image({ datatype: 'INT32', contents: { int_contents: zeros(784) } }),
        status.INVALID_ARGUMENT,
        /^input "image": datatype INT32 but model "mnist" takes FP32$/,
      ],
      [
        image({ shape: [1, 783], contents: { fp32_contents: zeros(783) } }),
        status.INVALID_ARGUMENT,
        /^input "image": shape \[1,783\] but model "mnist" takes \[-1,784\]$/,
      ],
      [
        image({ shape: [2, 784] }),
        status.INVALID_ARGUMENT,
        /^inputs\[0\] \("image"\)\.contents\.fp32_contents: has 784 elements but shape \[2,784\] holds 1568$/,
      ],
      [
        image({ datatype: 'FP8' }),
        status.INVALID_ARGUMENT,
        /^inputs\[0\] \("image"\)\.datatype: must be one of/,
      ],
    ];
    for (const [request, code, message] of cases)
      await rejectsWith(grpc.call('ModelInfer', request), code, message);
    await assert.rejects(grpc.call('ModelInfer', image({ name: 'pixels' })), (err: ServiceError) => {
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.deepEqual(err.metadata.get('flotilla-error-code'), ['FLT_UNKNOWN_INPUT']);
      return true;
    });
  });

  it('takes messages far above gRPC default 4 MiB: a 6 MB tensor gets the shape error, not RESOURCE_EXHAUSTED', async () => {
    const big = Buffer.alloc(1_500_000 * 4);
    await rejectsWith(
      grpc.call('ModelInfer', {
        model_name: 'mnist',
        inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 1_500_000] }],
        raw_input_contents: [big],
      }),
      status.INVALID_ARGUMENT,
      /^input "image": shape \[1,1500000\] but model "mnist" takes \[-1,784\]$/,
    );
  });

  it('guards the repository RPCs with the admin token, and KServe clients load and unload', async () => {
    await rejectsWith(
      grpc.call('RepositoryModelUnload', { model_name: 'mnist' }),
      status.UNAUTHENTICATED,
      /Bearer/,
    );
    await rejectsWith(
      grpc.call('RepositoryModelUnload', { model_name: 'mnist' }, bearer('wrong')),
      status.UNAUTHENTICATED,
      /Bearer/,
    );
    // KServe sends the model name as field 1 (Triton's repository_name): Flotilla takes it from there.
    assert.deepEqual(await grpc.call('RepositoryModelUnload', { model_name: 'mnist' }, bearer(TOKEN)), {
      model_name: 'mnist',
      isUnloaded: true,
    });
    // Unloaded: ready false with OK over gRPC (Triton); 503 with the reason over REST.
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist' }), { ready: false });
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist', version: '2' }), { ready: false });
    const rest = await fetch(`${server.url}/v2/models/mnist/ready`);
    assert.equal(rest.status, 503);
    assert.deepEqual(await rest.json(), { ready: false, reason: 'model "mnist" is unloaded' });
    assert.deepEqual(await grpc.call('RepositoryModelLoad', { model_name: 'mnist' }, bearer(TOKEN)), {
      model_name: 'mnist',
      isLoaded: true,
    });
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist', version: '2' }), { ready: true });
    await rejectsWith(
      grpc.call('RepositoryModelLoad', { model_name: 'absent' }, bearer(TOKEN)),
      status.NOT_FOUND,
      /model "absent" is not in the repository/,
    );
  });
});

describe('OIP v2 over gRPC: limits, no admin token, and SIGTERM', () => {
  const repo = tempRepository([], ['slow']);
  let server: FlotillaProcess;
  let grpc: ReturnType<typeof kserveClient>;

  before(async () => {
    server = await startServe(
      ['--model-repository', repo.dir, '--poll-interval', '0', '--grpc-max-message', '1MiB'],
      { env: { FLOTILLA_ADMIN_TOKEN: '' } },
    );
    grpc = kserveClient(server.grpcAddress);
  });
  after(async () => {
    grpc.close();
    await server.stop();
    repo.remove();
  });

  const slow = (values: number[]): object => ({
    model_name: 'slow',
    inputs: [{ name: 'x', datatype: 'INT32', shape: [values.length], contents: { int_contents: values } }],
  });

  it('refuses the repository RPCs with PERMISSION_DENIED when no admin token is set', async () => {
    await rejectsWith(
      grpc.call('RepositoryModelLoad', { model_name: 'slow' }, bearer('anything')),
      status.PERMISSION_DENIED,
      /--admin-token/,
    );
  });

  it('answers RESOURCE_EXHAUSTED above --grpc-max-message', async () => {
    // 300,000 INT32 values: 1.2 MB, above the 1 MiB this server was started with.
    const big = { model_name: 'slow', inputs: [{ name: 'x', datatype: 'INT32', shape: [300_000] }] };
    const request = { ...big, raw_input_contents: [Buffer.alloc(1_200_000)] };
    await rejectsWith(grpc.call('ModelInfer', request), status.RESOURCE_EXHAUSTED, /./);
  });

  it('finishes calls in flight on SIGTERM, then exits 0 and stops listening', async () => {
    const inflight = [1, 2, 3, 4].map((i) =>
      grpc.call<{ outputs: { contents: { int_contents: number[] } }[] }>('ModelInfer', slow([i])),
    );
    await new Promise((r) => setTimeout(r, 150));
    const code = server.stop('SIGTERM');
    const answers = await Promise.all(inflight);
    assert.deepEqual(
      answers.map((a) => a.outputs[0]!.contents.int_contents),
      [[1], [2], [3], [4]],
    );
    assert.equal(await code, 0);
    assert.match(server.logs(), /draining signal=SIGTERM/);
    const late = kserveClient(server.grpcAddress);
    await rejectsWith(late.call('ServerLive', {}), status.UNAVAILABLE, /./);
    late.close();
  });
});
