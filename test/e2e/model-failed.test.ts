import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeInferRequest } from '../../src/protocol/oip-rest/index.js';
import { startServe, waitFor } from '../helpers/flotilla-process.js';
import { digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { tempRepository } from '../helpers/temp-repo.js';

/**
 * A version that failed to load answered 503 "retry later" (FLT_MODEL_NOT_READY), which a gateway
 * retries and counts against the replica's health, though no retry can succeed until the
 * repository is fixed: it answers 409 FLT_MODEL_FAILED with the reason now.
 */
describe('a version that failed to load', () => {
  it('answers 409 FLT_MODEL_FAILED with its reason, and the versions that loaded still serve', async () => {
    const repo = tempRepository(['mnist']);
    // mnist version 3 and the only version of "broken" are not ONNX files.
    mkdirSync(join(repo.dir, 'mnist', '3'));
    writeFileSync(join(repo.dir, 'mnist', '3', 'model.onnx'), 'not an onnx model');
    mkdirSync(join(repo.dir, 'broken', '1'), { recursive: true });
    writeFileSync(join(repo.dir, 'broken', 'config.yaml'), 'backend: onnx\n');
    writeFileSync(join(repo.dir, 'broken', '1', 'model.onnx'), 'not an onnx model');
    // The server is never ready (a model has no version that loads): wait for mnist's versions.
    const server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0'], {
      waitReady: false,
    });
    const body = encodeInferRequest(digitsRequest(heldOutDigits().slice(0, 1))).body;
    const infer = async (path: string): Promise<{ status: number; code: string; error: string }> => {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, ...((await res.json()) as { code: string; error: string }) };
    };
    try {
      await waitFor(
        async () => (await fetch(`${server.url}/v2/models/mnist/versions/2/ready`)).status === 200,
        60_000,
        'mnist ready',
      );
      // 503 FLT_MODEL_NOT_READY while a version still loads; its final answer after that.
      let failed = await infer('/v2/models/mnist/versions/3/infer');
      for (let i = 0; i < 100 && failed.code === 'FLT_MODEL_NOT_READY'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        failed = await infer('/v2/models/mnist/versions/3/infer');
      }
      assert.equal(failed.status, 409, server.logs());
      assert.equal(failed.code, 'FLT_MODEL_FAILED');
      assert.match(failed.error, /version 3 failed to load: .+/);
      const broken = await infer('/v2/models/broken/infer');
      assert.equal(broken.status, 409);
      assert.equal(broken.code, 'FLT_MODEL_FAILED');
      assert.equal((await infer('/v2/models/mnist/versions/2/infer')).status, 200);
      assert.equal((await infer('/v2/models/mnist/infer')).status, 200);
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});
