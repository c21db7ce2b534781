import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeInferRequest } from '../../src/protocol/oip-rest/index.js';
import { type FlotillaProcess, startServe, waitFor } from '../helpers/flotilla-process.js';
import { digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { tempRepository } from '../helpers/temp-repo.js';

/**
 * A version that failed to load answered 503 "retry later" (FLT_MODEL_NOT_READY), which a gateway
 * retries and counts against the replica's health, though no retry can succeed until the
 * repository is fixed: it answers 409 FLT_MODEL_FAILED with the reason now.
 */
describe('a version that failed to load', () => {
  const repo = tempRepository(['mnist']);
  let server: FlotillaProcess;

  before(async () => {
    // mnist version 3 and the only version of "broken" are not ONNX files.
    mkdirSync(join(repo.dir, 'mnist', '3'));
    writeFileSync(join(repo.dir, 'mnist', '3', 'model.onnx'), 'not an onnx model');
    mkdirSync(join(repo.dir, 'broken', '1'), { recursive: true });
    writeFileSync(join(repo.dir, 'broken', 'config.yaml'), 'backend: onnx\n');
    writeFileSync(join(repo.dir, 'broken', '1', 'model.onnx'), 'not an onnx model');
    // The server is never ready (a model has no version that loads): wait for mnist's versions.
    server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0'], { waitReady: false });
    await waitFor(
      async () => (await fetch(`${server.url}/v2/models/mnist/versions/2/ready`)).status === 200,
      60_000,
      'mnist ready',
    );
  });
  after(async () => {
    await server?.stop();
    repo.remove();
  });

  const infer = async (path: string): Promise<{ status: number; body: { code: string; error: string } }> => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: encodeInferRequest(digitsRequest(heldOutDigits().slice(0, 1))).body,
    });
    return { status: res.status, body: (await res.json()) as { code: string; error: string } };
  };

  /** The answer once the version has stopped loading (503 while it loads). */
  const settled = async (path: string): ReturnType<typeof infer> => {
    let answer = await infer(path);
    for (let i = 0; i < 100 && answer.body.code === 'FLT_MODEL_NOT_READY'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await infer(path);
    }
    return answer;
  };

  it('answers 409 FLT_MODEL_FAILED with the reason for that version', async () => {
    const { status, body } = await settled('/v2/models/mnist/versions/3/infer');
    assert.equal(status, 409);
    assert.equal(body.code, 'FLT_MODEL_FAILED');
    assert.match(body.error, /version 3 failed to load: .+/);
  });

  it('answers 409 for a model whose every version failed', async () => {
    const { status, body } = await settled('/v2/models/broken/infer');
    assert.equal(status, 409);
    assert.equal(body.code, 'FLT_MODEL_FAILED');
  });

  it('still serves the versions that loaded', async () => {
    assert.equal((await infer('/v2/models/mnist/versions/2/infer')).status, 200);
    assert.equal((await infer('/v2/models/mnist/infer')).status, 200);
  });
});
