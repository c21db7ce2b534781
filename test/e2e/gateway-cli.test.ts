import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  echo,
  startBackend,
  startGateway,
  type TinyBackend,
  writeServiceFile,
} from '../fixtures/services/gateway-helpers.js';
import { waitFor } from '../helpers/flotilla-process.js';
import { CLI, ROOT } from '../helpers/paths.js';
import { rawRequest } from '../helpers/raw-http.js';

const run = promisify(execFile);

/** Runs `flotilla gateway` expecting it to fail; returns its stderr. */
async function fails(args: string[]): Promise<string> {
  try {
    await run(process.execPath, [CLI, 'gateway', ...args], { timeout: 10_000 });
  } catch (err) {
    const e = err as { code: number; stderr: string };
    assert.equal(e.code, 1);
    return e.stderr;
  }
  assert.fail('expected flotilla gateway to exit 1');
}

describe('flotilla gateway (CLI)', () => {
  const backends: TinyBackend[] = [];
  after(async () => {
    for (const b of backends) await b.close();
  });

  it('refuses a bad service file, naming the file, service and field', async () => {
    const file = writeServiceFile(
      'services:\n  mnist:\n    variants:\n      - { tag: a, weight: 1, endpoints: "127.0.0.1:1" }\n      - { tag: b, weight: -5, endpoints: "127.0.0.1:2" }\n',
    );
    const err = await fails(['--config', file, '--port', '0']);
    assert.match(
      err,
      /^flotilla: .*services\.yaml: services\.mnist\.variants\[1\]\.weight: Too small: expected number to be >=0 \(got -5\)/,
    );
  });

  it('refuses model and command variants: they need `flotilla up`', async () => {
    const err = await fails(['--config', `${ROOT}test/fixtures/services/design-example.yaml`, '--port', '0']);
    assert.match(
      err,
      /services\.mnist\.variants\[0\]: variant `stable` runs a model: start it with `flotilla up`/,
    );
  });

  it('says which file it cannot read', async () => {
    assert.match(
      await fails(['--config', '/nonexistent/services.yaml']),
      /\/nonexistent\/services\.yaml: cannot read the service file/,
    );
  });

  it('reloads on SIGHUP and drains on SIGTERM: requests in flight finish, exit 0', async () => {
    const slow = await startBackend('slow', (req, res, body, name) =>
      setTimeout(() => echo(req, res, body, name), 400),
    );
    const other = await startBackend('other');
    backends.push(slow, other);
    const file = writeServiceFile(
      `services: { m: { variants: [{ tag: v1, endpoints: "${slow.address}" }] } }`,
    );
    const gw = await startGateway(file);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, `services: { m: { variants: [{ tag: v1, endpoints: "${other.address}" }] } }`);
    gw.proc.kill('SIGHUP');
    await waitFor(() => /service file reloaded/.test(gw.logs()), 10_000, 'the first reload');
    assert.equal(
      (await rawRequest(gw.url, 'POST', '/v2/models/m/infer', '{}')).headers['x-backend'],
      'other',
    );
    writeFileSync(file, `services: { m: { variants: [{ tag: v1, endpoints: "${slow.address}" }] } }`);
    gw.proc.kill('SIGHUP');
    await waitFor(() => gw.logs().match(/service file reloaded/g)?.length === 2, 10_000, 'the second reload');
    const inflight = [1, 2, 3].map(() => rawRequest(gw.url, 'POST', '/v2/models/m/infer', '{}'));
    await new Promise((r) => setTimeout(r, 100));
    const code = gw.stop('SIGTERM');
    for (const res of await Promise.all(inflight)) {
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-backend'], 'slow');
    }
    assert.equal(await code, 0);
    assert.match(gw.logs(), /draining signal=SIGTERM/);
    await assert.rejects(rawRequest(gw.url, 'GET', '/v2/health/live'), /ECONNREFUSED/);
  });
  it("routes 50/50 between two variants from Paddle Serving's predictors.prototxt", async () => {
    const replicas = await Promise.all(['var1-a', 'var1-b', 'var2'].map((n) => startBackend(n)));
    backends.push(...replicas);
    const [a, b, c] = replicas.map((r) => r.address);
    const text = readFileSync(`${ROOT}test/fixtures/services/predictors.prototxt`, 'utf8')
      .replace('127.0.0.1:8010, 127.0.0.1:8011', `${a}, ${b}`)
      .replace('127.0.0.1:8012', `${c}`);
    const gw = await startGateway(writeServiceFile(text, 'predictors.prototxt'));
    try {
      const n = 400;
      const seen: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const res = await rawRequest(gw.url, 'POST', '/mnist/prediction', '{"feed":[{"x":[1]}]}');
        assert.equal(res.status, 200);
        const who = String(res.headers['x-backend']);
        seen[who] = (seen[who] ?? 0) + 1;
      }
      const var1 = (seen['var1-a'] ?? 0) + (seen['var1-b'] ?? 0);
      // 50 % of 400 has a standard deviation of 10 requests: 150..250 is 5 of them either side.
      assert.ok(var1 >= 150 && var1 <= 250, `var1 got ${var1} of ${n}: ${JSON.stringify(seen)}`);
      assert.ok((seen['var1-a'] ?? 0) > 0 && (seen['var1-b'] ?? 0) > 0, JSON.stringify(seen));
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
