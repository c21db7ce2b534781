import assert from 'node:assert/strict';
import { cpSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OipHttpClient } from '../../src/client/index.js';
import { type FlotillaProcess, startServe, waitFor } from '../helpers/flotilla-process.js';
import { digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { tempRepository } from '../helpers/temp-repo.js';

const POLL_S = 1;

describe('hot reload: versions appear and disappear under load', () => {
  const repo = tempRepository(['mnist']);
  let server: FlotillaProcess;
  let client: OipHttpClient;

  before(async () => {
    server = await startServe(['--model-repository', repo.dir, '--poll-interval', String(POLL_S)]);
    client = new OipHttpClient({ baseUrl: server.url, connections: 4 });
  });
  after(async () => {
    await client.close();
    await server.stop();
    repo.remove();
  });

  it('adds version 3 and removes version 1 with zero failed requests', async (t) => {
    const digit = heldOutDigits()[0]!;
    let running = true;
    const served: Record<string, number> = {};
    const failures: string[] = [];
    const v1Statuses = new Set<number>();
    const loop = async (version: string | undefined): Promise<void> => {
      while (running) {
        try {
          const res = await client.infer(digitsRequest([digit], version));
          served[res.version] = (served[res.version] ?? 0) + 1;
        } catch (err) {
          failures.push(`${version ?? 'latest'}: ${(err as Error).message}`);
        }
      }
    };
    // Requests pinned to version 1 may be refused once it is gone (404/503), but never broken.
    const v1Loop = async (): Promise<void> => {
      while (running) {
        const res = await fetch(`${server.url}/v2/models/mnist/versions/1/infer`, {
          method: 'POST',
          body: JSON.stringify({
            inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: Array.from(digit.pixels) }],
          }),
        });
        await res.arrayBuffer();
        v1Statuses.add(res.status);
      }
    };
    const loops = [loop(undefined), loop(undefined), loop('2'), v1Loop()];
    await new Promise((r) => setTimeout(r, 500));

    // Publish version 3 atomically (copy aside, then rename), as with any live repository.
    cpSync(join(repo.dir, 'mnist', '2'), join(repo.dir, 'mnist', '.3.tmp'), { recursive: true });
    renameSync(join(repo.dir, 'mnist', '.3.tmp'), join(repo.dir, 'mnist', '3'));
    rmSync(join(repo.dir, 'mnist', '1'), { recursive: true });
    const changedAt = Date.now();

    await waitFor(
      async () =>
        JSON.stringify((await client.getJson<{ versions: string[] }>('/v2/models/mnist')).versions) ===
        '["2","3"]',
      2 * POLL_S * 1000,
      'metadata to list versions 2 and 3 within two poll intervals',
    );
    t.diagnostic(
      `metadata reflected the change after ${Date.now() - changedAt} ms (poll interval ${POLL_S * 1000} ms)`,
    );
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(loops);

    assert.deepEqual(failures, []);
    assert.ok((served['3'] ?? 0) > 0, `unversioned requests moved to version 3: ${JSON.stringify(served)}`);
    assert.ok((served['2'] ?? 0) > 0);
    for (const s of v1Statuses) assert.ok([200, 404, 503].includes(s), `version 1 answered ${s}`);
    assert.ok(v1Statuses.has(404), 'version 1 is gone at the end');
    t.diagnostic(`served per version: ${JSON.stringify(served)}`);
    assert.match(server.logs(), /unloaded model version model=mnist version=1/);
  });
});
