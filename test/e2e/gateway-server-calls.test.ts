/**
 * Issue 15, "through flotilla gateway, the server-level calls fail": Triton's and KServe's clients
 * call server metadata first, so they failed against a gateway with several services. The real
 * `flotilla gateway` CLI in front of a real `flotilla serve`, called by KServe's generated client
 * and over HTTP.
 */
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
import { writeServiceFile } from '../fixtures/services/gateway-helpers.js';
import { type FlotillaProcess, startCli, startServe } from '../helpers/flotilla-process.js';
import { bearer, kserveClient, rejectsWith, TRITON_PROTO } from '../helpers/kserve-client.js';
import { heldOutDigits } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';
import { rawRequest } from '../helpers/raw-http.js';

const TOKEN = 'gw-s3cret';
const hostPort = (url: string): string => url.replace(/^http:\/\//, '');

describe('server-level calls through flotilla gateway (two services)', () => {
  let serve: FlotillaProcess;
  let gw: FlotillaProcess;
  let grpc: ReturnType<typeof kserveClient>;
  let triton: ReturnType<typeof kserveClient>;

  before(async () => {
    serve = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'mnist',
      '--poll-interval',
      '0',
    ]);
    const replica = `endpoints: "${hostPort(serve.url)}", grpcEndpoints: "${serve.grpcAddress}"`;
    const file = writeServiceFile(`services:
  mnist:
    variants: [{ tag: stable, ${replica} }]
  digits:
    variants: [{ tag: stable, modelName: mnist, ${replica} }]
`);
    gw = await startCli(['gateway', '--config', file, '--port', '0', '--grpc-port', '0'], {
      env: { FLOTILLA_ADMIN_TOKEN: TOKEN },
      listenTimeoutMs: 20_000,
      what: 'gateway',
    });
    grpc = kserveClient(gw.grpcAddress);
    triton = kserveClient(gw.grpcAddress, TRITON_PROTO);
  });
  after(async () => {
    grpc?.close();
    triton?.close();
    assert.equal(await gw?.stop(), 0);
    assert.equal(await serve?.stop(), 0);
  });

  it('answers server metadata itself, over HTTP and gRPC', async () => {
    const res = await rawRequest(gw.url, 'GET', '/v2');
    assert.equal(res.status, 200);
    const meta = JSON.parse(res.body.toString()) as { name: string; version: string; extensions: string[] };
    assert.equal(meta.name, 'flotilla-gateway');
    assert.match(meta.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(meta.extensions, ['binary_tensor_data', 'classification', 'model_configuration']);
    assert.deepEqual(await grpc.call('ServerMetadata', {}), meta);
    assert.deepEqual(await triton.call('ServerMetadata', {}), meta);
    // The calls a Triton client makes next go through to the replicas.
    assert.deepEqual(await grpc.call('ServerReady', {}), { ready: true });
    const model = await grpc.call<{ name: string }>('ModelMetadata', { name: 'digits', version: '' });
    assert.equal(model.name, 'mnist');
  });

  it('lists the services as the repository index, behind the admin token', async () => {
    const index = await triton.call<{ models: unknown[] }>('RepositoryIndex', {}, bearer(TOKEN));
    const expected = [
      { name: 'mnist', version: '', state: 'READY', reason: '' },
      { name: 'digits', version: '', state: 'READY', reason: '' },
    ];
    assert.deepEqual(index.models, expected);
    const http = await rawRequest(gw.url, 'POST', '/v2/repository/index', '{"ready":true}', {
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(http.status, 200);
    assert.deepEqual(
      JSON.parse(http.body.toString()),
      expected.map(({ version: _, ...e }) => e),
    );
    await rejectsWith(triton.call('RepositoryIndex', {}), status.UNAUTHENTICATED, /Bearer <admin token>/);
    assert.equal((await rawRequest(gw.url, 'POST', '/v2/repository/index', '{}')).status, 401);
  });

  it('refuses repository load and unload, saying where to send them', async () => {
    await rejectsWith(
      triton.call('RepositoryModelLoad', { model_name: 'mnist' }, bearer(TOKEN)),
      status.UNIMPLEMENTED,
      /repository load of mnist: each replica behind the gateway has its own repository/,
    );
    await rejectsWith(
      grpc.call('RepositoryModelUnload', { model_name: 'digits' }, bearer(TOKEN)),
      status.UNIMPLEMENTED,
      /repository unload of digits/,
    );
    const res = await rawRequest(gw.url, 'POST', '/v2/repository/models/mnist/unload', '{}', {
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(res.status, 404);
    assert.equal(JSON.parse(res.body.toString()).code, 'FLT_NOT_THROUGH_GATEWAY');
    // The replica kept its model.
    assert.deepEqual(await grpc.call('ModelReady', { name: 'mnist', version: '' }), { ready: true });
  });

  it('refuses statistics of every model, which no one replica has', async () => {
    const res = await rawRequest(gw.url, 'GET', '/v2/models/stats');
    assert.equal(res.status, 404);
    const body = JSON.parse(res.body.toString()) as { code: string; error: string };
    assert.equal(body.code, 'FLT_NOT_THROUGH_GATEWAY');
    assert.match(body.error, /each replica behind the gateway counts its own calls/);
    await rejectsWith(triton.call('ModelStatistics', {}), status.UNIMPLEMENTED, /statistics of every model/);
  });

  it("passes one service's statistics, configuration and classification through to a replica", async () => {
    type Stats = { name: string; version: string; inference_count: string | number };
    const http = await rawRequest(gw.url, 'GET', '/v2/models/digits/stats');
    assert.equal(http.status, 200);
    const rows = (JSON.parse(http.body.toString()) as { model_stats: Stats[] }).model_stats;
    assert.ok(rows.length > 0 && rows.every((r) => r.name === 'mnist'), JSON.stringify(rows));
    const viaGrpc = await triton.call<{ model_stats: Stats[] }>('ModelStatistics', { name: 'digits' });
    assert.deepEqual(
      viaGrpc.model_stats.map((r) => r.name),
      rows.map((r) => r.name),
    );
    const config = await rawRequest(gw.url, 'GET', '/v2/models/digits/config');
    assert.equal(config.status, 200);
    assert.equal((JSON.parse(config.body.toString()) as { name: string }).name, 'mnist');
    const grpcConfig = await triton.call<{ config: { name: string } }>('ModelConfig', { name: 'digits' });
    assert.equal(grpcConfig.config.name, 'mnist');

    const digit = heldOutDigits()[0]!;
    const classified = await rawRequest(
      gw.url,
      'POST',
      '/v2/models/digits/infer',
      JSON.stringify({
        inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784], data: [...digit.pixels] }],
        outputs: [{ name: 'probs', parameters: { classification: 1 } }],
      }),
    );
    assert.equal(classified.status, 200, classified.body.toString());
    const out = (
      JSON.parse(classified.body.toString()) as { outputs: { datatype: string; data: string[] }[] }
    ).outputs[0]!;
    assert.equal(out.datatype, 'BYTES');
    assert.equal(Number(out.data[0]!.split(':')[1]), digit.label);
  });

  it('relays a ModelStreamInfer stream whole, each message to the model the service names', async () => {
    const options = { keepCase: true, longs: String, bytes: Buffer, defaults: true, oneofs: true };
    const pkg = loadPackageDefinition(loadSync(TRITON_PROTO, options));
    const Service = (pkg['inference'] as GrpcObject)['GRPCInferenceService'] as ServiceClientConstructor;
    const method = Service.service['ModelStreamInfer']!;
    const raw = new GrpcClient(gw.grpcAddress, credentials.createInsecure());
    type Answer = { error_message: string; infer_response: { id: string; model_name: string } | null };
    const stream: ClientDuplexStream<object, Answer> = raw.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      (b: Buffer) => method.responseDeserialize(b) as Answer,
    );
    const answers: Answer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (a: Answer) => answers.push(a));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    const digits = heldOutDigits().slice(0, 5);
    // "digits" is served by the replica's "mnist": every message is renamed, not only the first.
    for (const [i, d] of digits.entries()) {
      stream.write({
        model_name: 'digits',
        id: `d${i}`,
        inputs: [
          { name: 'image', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: [...d.pixels] } },
        ],
      });
    }
    stream.end();
    await done;
    raw.close();
    assert.deepEqual(
      answers.map((a) => [a.error_message, a.infer_response?.id]),
      digits.map((_, i) => ['', `d${i}`]),
    );
  });
});
