import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { seededRandom, silentLogger, systemClock } from '../../src/core/index.js';
import { Gateway, type GatewayOptions, type ReplicaRuntime } from '../../src/gateway/index.js';
import { LeastRequestBalancer } from '../../src/lb/index.js';
import { parseServiceFile, type ServiceFile } from '../../src/spec/index.js';
import { echo, startBackend, type TinyBackend } from '../fixtures/services/gateway-helpers.js';
import { rawRequest } from '../helpers/raw-http.js';

const file = (yaml: string): ServiceFile => parseServiceFile(parse(yaml), 'services.yaml');

describe('gateway admin API and runtime surface', () => {
  const closers: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });
  const backend = async (name: string, handler = echo): Promise<TinyBackend> => {
    const b = await startBackend(name, handler);
    closers.push(() => b.close());
    return b;
  };
  let nextYaml = '';
  const gateway = async (yaml: string, options: Partial<GatewayOptions> = {}) => {
    const random = seededRandom(3);
    const gw = new Gateway(
      file(yaml),
      { host: '127.0.0.1', port: 0, adminToken: 'sesame', ...options },
      {
        clock: systemClock,
        random,
        logger: silentLogger,
        balancer: () => new LeastRequestBalancer<ReplicaRuntime>({}, { random }),
        load: async () => file(nextYaml),
      },
    );
    const url = `http://127.0.0.1:${(await gw.listen()).port}`;
    closers.push(() => gw.close());
    return { gw, url };
  };
  const admin = (url: string, method: string, path: string, body?: unknown, token = 'sesame') =>
    rawRequest(url, method, `/_flotilla/${path}`, body === undefined ? undefined : JSON.stringify(body), {
      authorization: `Bearer ${token}`,
    });

  it('refuses the admin API without a configured token (403) or with a wrong one (401); metrics stay open', async () => {
    const a = await backend('a');
    const open = await gateway(`services: { m: { variants: [{ tag: v1, endpoints: "${a.address}" }] } }`, {
      adminToken: undefined,
    });
    const res = await admin(open.url, 'GET', 'state');
    assert.equal(res.status, 403);
    assert.match(res.body.toString(), /FLT_ADMIN_DISABLED/);
    const guarded = await gateway(`services: { m: { variants: [{ tag: v1, endpoints: "${a.address}" }] } }`);
    assert.equal((await admin(guarded.url, 'GET', 'state', undefined, 'wrong')).status, 401);
    assert.equal((await admin(guarded.url, 'GET', 'routes')).status, 200);
    const metrics = await rawRequest(guarded.url, 'GET', '/_flotilla/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body.toString(), /flotilla_gateway_variant_weight\{service="m",variant="v1"\} 1/);
  });

  it('changes weights at runtime, validated, by tag or as a Paddle weight list', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const { url } = await gateway(`
services:
  m:
    variants:
      - { tag: v1, weight: 100, endpoints: "${a.address}" }
      - { tag: v2, weight: 0, endpoints: "${b.address}" }
`);
    const send = async () =>
      (await rawRequest(url, 'POST', '/v2/models/m/infer', '{}')).headers['x-flotilla-variant'];
    for (let i = 0; i < 10; i++) assert.equal(await send(), 'v1');
    const res = await admin(url, 'PUT', 'services/m/weights', { weights: { v1: 0, v2: 5 } });
    assert.equal(res.status, 200);
    assert.deepEqual(
      (JSON.parse(res.body.toString()) as { variants: { tag: string; weight: number }[] }).variants.map(
        (v) => [v.tag, v.weight],
      ),
      [
        ['v1', 0],
        ['v2', 5],
      ],
    );
    for (let i = 0; i < 10; i++) assert.equal(await send(), 'v2');
    assert.equal((await admin(url, 'PUT', 'services/m/weights', { weights: '1 | 0' })).status, 200);
    assert.equal(await send(), 'v1');
    const bad: [unknown, RegExp][] = [
      [{ weights: { v1: 0, v2: 0 } }, /weights: the weights add up to 0/],
      [{ weights: { v1: -1, v2: 1 } }, /weight of v1: -1/],
      [{ weights: { v1: 1 } }, /no weight for v2/],
      [{ weights: { v1: 1, v2: 1, v3: 1 } }, /no variant tagged v3/],
      [{ weights: { v1: '1', v2: 1 } }, /weights\.v1: \\"1\\" is not a number/],
      [{ weights: '1 | 2 | 3' }, /3 weights for 2 variants/],
      [{ nothing: 1 }, /weights: expected/],
    ];
    for (const [body, message] of bad) {
      const r = await admin(url, 'PUT', 'services/m/weights', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.toString(), message);
    }
    assert.equal(await send(), 'v1', 'a refused change changes nothing');
    const missing = await admin(url, 'PUT', 'services/zzz/weights', { weights: { v1: 1 } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString(), /no service zzz; known services: m/);
  });

  it('reloads the service file without failing requests in flight, keeping replicas that stay', async () => {
    const slow = await backend('slow', (req, res, body, name) =>
      setTimeout(() => echo(req, res, body, name), 300),
    );
    const other = await backend('other');
    const { url, gw } = await gateway(
      `services: { m: { variants: [{ tag: v1, endpoints: "${slow.address}" }] } }`,
    );
    const inflight = Array.from({ length: 5 }, () => rawRequest(url, 'POST', '/v2/models/m/infer', '{}'));
    await new Promise((r) => setTimeout(r, 50));
    nextYaml = `
services:
  m: { variants: [{ tag: v1, endpoints: "${other.address}" }] }
  n: { variants: [{ tag: v1, endpoints: "${slow.address}" }] }
`;
    const res = await admin(url, 'POST', 'reload');
    assert.equal(res.status, 200);
    for (const r of await Promise.all(inflight)) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-backend'], 'slow');
    }
    assert.equal((await rawRequest(url, 'POST', '/v2/models/m/infer', '{}')).headers['x-backend'], 'other');
    assert.equal((await rawRequest(url, 'POST', '/v2/models/n/infer', '{}')).headers['x-backend'], 'slow');
    assert.deepEqual(
      gw.state().services.map((s) => s.name),
      ['m', 'n'],
    );
    nextYaml = `services: { m: { variants: [{ tag: v1, endpoints: "127.0.0.1:1", command: "x" }] } }`;
    const bad = await admin(url, 'POST', 'reload');
    assert.equal(bad.status, 400);
    assert.match(
      bad.body.toString(),
      /services\.yaml: services\.m\.variants\[0\]: a variant has exactly one of/,
    );
  });

  it('takes replicas at runtime and reports variant load for the autoscaler', async () => {
    const slow = await backend('slow', (req, res, body, name) =>
      setTimeout(() => echo(req, res, body, name), 200),
    );
    const { url, gw } = await gateway(
      `services: { m: { variants: [{ tag: v1, endpoints: "127.0.0.1:1" }] } }`,
      {
        staticOnly: false,
      },
    );
    gw.setReplicas('m', 'v1', [{ host: '127.0.0.1', port: slow.port }]);
    const t0 = gw.state();
    const inflight = Array.from({ length: 4 }, () => rawRequest(url, 'POST', '/v2/models/m/infer', '{}'));
    await new Promise((r) => setTimeout(r, 100));
    const during = gw.state().services[0]!.variants[0]!;
    assert.equal(during.inflight, 4);
    // Requests are counted as they end, with their errors: a rollout reading errors ÷ requests
    // mid-flight saw a canary answering only 500 at 12/13.
    assert.equal(during.requests, 0);
    assert.deepEqual(
      during.replicas.map((r) => [r.id, r.active]),
      [[slow.address, 4]],
    );
    await Promise.all(inflight);
    const t1 = gw.state();
    const v0 = t0.services[0]!.variants[0]!;
    const v1 = t1.services[0]!.variants[0]!;
    // Four requests of ~200 ms over the window: average concurrency = Δintegral / Δt.
    const avg = (v1.concurrencyIntegral - v0.concurrencyIntegral) / (t1.atMs - t0.atMs);
    assert.ok(avg > 2 && avg <= 4, `average concurrency ${avg}`);
    assert.equal(v1.requests, 4);
    assert.throws(() => gw.setReplicas('m', 'v9', []), /service m has no variant v9/);
  });

  it('drains on close: requests in flight finish, new connections are refused', async () => {
    const slow = await backend('slow', (req, res, body, name) =>
      setTimeout(() => echo(req, res, body, name), 300),
    );
    const random = seededRandom(1);
    const gw = new Gateway(
      file(`services: { m: { variants: [{ tag: v1, endpoints: "${slow.address}" }] } }`),
      { host: '127.0.0.1', port: 0 },
      {
        clock: systemClock,
        random,
        logger: silentLogger,
        balancer: () => new LeastRequestBalancer<ReplicaRuntime>({}, { random }),
      },
    );
    const url = `http://127.0.0.1:${(await gw.listen()).port}`;
    const inflight = Array.from({ length: 3 }, () => rawRequest(url, 'POST', '/v2/models/m/infer', '{}'));
    await new Promise((r) => setTimeout(r, 50));
    const closed = gw.close();
    for (const r of await Promise.all(inflight)) assert.equal(r.status, 200);
    await closed;
    await assert.rejects(rawRequest(url, 'GET', '/v2/health/live'), /ECONNREFUSED/);
  });
});
