import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServe } from '../helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

describe('--models name:version pins one version', () => {
  it('serves only the pinned version, whatever the version policy says', async () => {
    const server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'mnist:1',
      '--poll-interval',
      '0',
    ]);
    try {
      const meta = (await (await fetch(`${server.url}/v2/models/mnist`)).json()) as { versions: string[] };
      assert.deepEqual(meta.versions, ['1']);
      assert.equal((await fetch(`${server.url}/v2/models/mnist/versions/2/ready`)).status, 404);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
