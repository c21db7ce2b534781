import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServe } from '../helpers/flotilla-process.js';
import { rawRequest } from '../helpers/raw-http.js';
import { tempRepository } from '../helpers/temp-repo.js';

describe('SIGTERM drains', () => {
  it('finishes requests in flight, then exits 0 and stops listening', async () => {
    const repo = tempRepository([], ['slow']);
    try {
      const server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0']);
      const body = (i: number): string =>
        JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [i] }] });
      const inflight = [1, 2, 3, 4].map((i) =>
        rawRequest(server.url, 'POST', '/v2/models/slow/infer', body(i)),
      );
      await new Promise((r) => setTimeout(r, 150));
      const code = server.stop('SIGTERM');
      const answers = await Promise.all(inflight);
      for (const [i, res] of answers.entries()) {
        assert.equal(res.status, 200);
        assert.deepEqual(
          (JSON.parse(res.body.toString()) as { outputs: { data: number[] }[] }).outputs[0]!.data,
          [i + 1],
        );
      }
      assert.equal(await code, 0);
      assert.match(server.logs(), /draining signal=SIGTERM/);
      await assert.rejects(rawRequest(server.url, 'GET', '/v2/health/live'), /ECONNREFUSED/);
    } finally {
      repo.remove();
    }
  });
});
