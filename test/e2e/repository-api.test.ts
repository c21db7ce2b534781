import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { errorOf, rawRequest } from '../helpers/raw-http.js';
import { tempRepository } from '../helpers/temp-repo.js';

const TOKEN = 's3cret-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('model repository extension', () => {
  const repo = tempRepository(['mnist'], ['sum']);
  let server: FlotillaProcess;
  let open: FlotillaProcess;

  before(async () => {
    server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0', '--models', 'mnist'], {
      env: { FLOTILLA_ADMIN_TOKEN: TOKEN },
    });
    open = await startServe(['--model-repository', repo.dir, '--poll-interval', '0', '--models', 'sum'], {
      env: { FLOTILLA_ADMIN_TOKEN: '' },
    });
  });
  after(async () => {
    await server.stop();
    await open.stop();
    repo.remove();
  });

  it('is refused with 403 when no admin token is set', async () => {
    const res = await rawRequest(open.url, 'POST', '/v2/repository/index', '{}');
    assert.equal(res.status, 403);
    assert.match(errorOf(res), /--admin-token/);
  });

  it('needs the bearer token', async () => {
    assert.equal((await rawRequest(server.url, 'POST', '/v2/repository/index', '{}')).status, 401);
    assert.equal(
      (await rawRequest(server.url, 'POST', '/v2/repository/index', '{}', { authorization: 'Bearer nope' }))
        .status,
      401,
    );
  });

  it('indexes every model in the repository with its state', async () => {
    const res = await rawRequest(server.url, 'POST', '/v2/repository/index', '{}', auth);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), [
      { name: 'mnist', version: '1', state: 'READY', reason: '' },
      { name: 'mnist', version: '2', state: 'READY', reason: '' },
      { name: 'sum', state: 'UNAVAILABLE', reason: 'unloaded' },
    ]);
    const ready = await rawRequest(server.url, 'POST', '/v2/repository/index', '{"ready":true}', auth);
    assert.equal((JSON.parse(ready.body.toString()) as unknown[]).length, 2);
  });

  it('loads a model outside --models and unloads one', async () => {
    const load = await rawRequest(server.url, 'POST', '/v2/repository/models/sum/load', '', auth);
    assert.equal(load.status, 200, load.body.toString());
    const sum = await rawRequest(
      server.url,
      'POST',
      '/v2/models/sum/infer',
      JSON.stringify({
        inputs: [
          { name: 'a', shape: [1], datatype: 'FP32', data: [1] },
          { name: 'b', shape: [1], datatype: 'FP32', data: [2] },
        ],
      }),
    );
    assert.equal(sum.status, 200);

    const unload = await rawRequest(server.url, 'POST', '/v2/repository/models/mnist/unload', '', auth);
    assert.equal(unload.status, 200);
    const gone = await rawRequest(server.url, 'GET', '/v2/models/mnist');
    assert.equal(gone.status, 404);
    assert.equal(
      (await rawRequest(server.url, 'POST', '/v2/repository/models/mnist/load', '', auth)).status,
      200,
    );
    assert.equal((await rawRequest(server.url, 'GET', '/v2/models/mnist/ready')).status, 200);
  });

  it('refuses unknown and malformed model names', async () => {
    const missing = await rawRequest(server.url, 'POST', '/v2/repository/models/nope/load', '', auth);
    assert.equal(missing.status, 404);
    const climbing = await rawRequest(server.url, 'POST', '/v2/repository/models/..%2Fmnist/load', '', auth);
    assert.equal(climbing.status, 400);
    assert.match(errorOf(climbing), /not a valid model name/);
  });
});
