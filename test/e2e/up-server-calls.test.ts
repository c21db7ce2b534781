/**
 * Issue 15's "through flotilla up": the server-level calls with several services, over HTTP and
 * gRPC, with KServe's and Triton's generated clients, against the real `flotilla up` and its
 * replicas as real `flotilla serve` processes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startUp, TOKEN, tempDir, type UpProcess, writeFile } from '../fixtures/up/up-helpers.js';
import { bearer, kserveClient, rejectsWith, TRITON_PROTO } from '../helpers/kserve-client.js';
import { heldOutDigits } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';
import { rawRequest } from '../helpers/raw-http.js';

describe('server-level calls through flotilla up (two services)', () => {
  const tmp = tempDir('up-server-calls');
  let up: UpProcess;
  let grpc: ReturnType<typeof kserveClient>;
  let triton: ReturnType<typeof kserveClient>;

  before(async () => {
    const repo = JSON.stringify(EXAMPLE_MODELS);
    const file = writeFile(
      tmp.dir,
      'two.yaml',
      `services:
  mnist:
    variants:
      - tag: v2
        model: { repository: ${repo}, name: mnist, version: 2 }
        scale: { min: 1, max: 1 }
  digits:
    variants:
      - tag: v1
        model: { repository: ${repo}, name: mnist, version: 1 }
        scale: { min: 1, max: 1 }
`,
    );
    up = await startUp(file, ['--grpc-port', '0'], { listenTimeoutMs: 30_000 });
    const address = /listening http=\S+[^\n]*\bgrpc=(\S+)/.exec(up.logs())?.[1];
    assert.ok(address, `no grpc address in:\n${up.logs()}`);
    grpc = kserveClient(address);
    triton = kserveClient(address, TRITON_PROTO);
    // Both services ready (a replica each) before the calls.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await rawRequest(up.url, 'GET', '/v2/health/ready');
      if (ready.status === 200) break;
      if (Date.now() > deadline) throw new Error(`not ready:\n${up.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    grpc?.close();
    triton?.close();
    await up?.cleanup();
    tmp.cleanup();
  });

  it('answers server metadata itself over HTTP and gRPC, and routes model calls by name', async () => {
    const res = await rawRequest(up.url, 'GET', '/v2');
    assert.equal(res.status, 200);
    const meta = JSON.parse(res.body.toString()) as { name: string };
    assert.equal(meta.name, 'flotilla-gateway');
    assert.deepEqual(await grpc.call('ServerMetadata', {}), meta);
    assert.deepEqual(await triton.call('ServerReady', {}), { ready: true });
    for (const name of ['mnist', 'digits']) {
      assert.deepEqual(await grpc.call('ModelReady', { name, version: '' }), { ready: true });
      const digit = heldOutDigits()[3]!;
      const answer = await grpc.call<{ model_name: string; outputs: { name: string }[] }>('ModelInfer', {
        model_name: name,
        inputs: [
          {
            name: 'image',
            datatype: 'FP32',
            shape: [1, 784],
            contents: { fp32_contents: [...digit.pixels] },
          },
        ],
      });
      assert.equal(answer.model_name, 'mnist');
      assert.deepEqual(
        answer.outputs.map((o) => o.name),
        ['probs'],
      );
    }
  });

  it('lists the services as the repository index behind the token, and refuses load and statistics of all', async () => {
    const index = await triton.call<{ models: { name: string; state: string }[] }>(
      'RepositoryIndex',
      {},
      bearer(TOKEN),
    );
    assert.deepEqual(
      index.models.map((m) => [m.name, m.state]),
      [
        ['mnist', 'READY'],
        ['digits', 'READY'],
      ],
    );
    await rejectsWith(triton.call('RepositoryIndex', {}), status.UNAUTHENTICATED, /admin token/);
    await rejectsWith(
      triton.call('RepositoryModelLoad', { model_name: 'digits' }, bearer(TOKEN)),
      status.UNIMPLEMENTED,
      /repository load of digits/,
    );
    assert.equal((await rawRequest(up.url, 'GET', '/v2/models/stats')).status, 404);
    const one = await rawRequest(up.url, 'GET', '/v2/models/digits/stats');
    assert.equal(one.status, 200);
  });
});
