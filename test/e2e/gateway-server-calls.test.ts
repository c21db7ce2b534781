/**
 * Issue 15, "through flotilla gateway, the server-level calls fail": Triton's and KServe's clients
 * call server metadata first, so they failed against a gateway with several services. The real
 * `flotilla gateway` CLI in front of a real `flotilla serve`, called by KServe's generated client
 * and over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { writeServiceFile } from '../fixtures/services/gateway-helpers.js';
import { type FlotillaProcess, startCli, startServe } from '../helpers/flotilla-process.js';
import { bearer, kserveClient, rejectsWith, TRITON_PROTO } from '../helpers/kserve-client.js';
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
});
