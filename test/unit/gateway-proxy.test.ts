import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { seededRandom, silentLogger, systemClock } from '../../src/core/index.js';
import { Gateway, type GatewayOptions, type ReplicaRuntime } from '../../src/gateway/index.js';
import { LeastRequestBalancer, RoundRobinBalancer } from '../../src/lb/index.js';
import { parseServiceFile } from '../../src/spec/index.js';
import { echo, startBackend, type TinyBackend } from '../fixtures/services/gateway-helpers.js';
import { rawRequest } from '../helpers/raw-http.js';

/** Starts an in-process gateway over a service file given as YAML text. */
async function startGateway(
  yaml: string,
  options: Partial<GatewayOptions> = {},
): Promise<{ gw: Gateway; url: string }> {
  const random = seededRandom(11);
  const gw = new Gateway(
    parseServiceFile(parse(yaml), 'services.yaml'),
    { host: '127.0.0.1', port: 0, staticOnly: true, ...options },
    {
      clock: systemClock,
      random,
      logger: silentLogger,
      balancer: (p) =>
        p === 'round_robin'
          ? new RoundRobinBalancer<ReplicaRuntime>()
          : new LeastRequestBalancer<ReplicaRuntime>({}, { random }),
    },
  );
  const address = await gw.listen();
  return { gw, url: `http://127.0.0.1:${address.port}` };
}

const post = (
  url: string,
  path: string,
  body: string | Buffer = '{}',
  headers: Record<string, string> = {},
) => rawRequest(url, 'POST', path, body, { 'content-type': 'application/json', ...headers });

for (const fastPath of [true, false]) {
  describe(`gateway proxy (in process, tiny replicas, ${fastPath ? 'raw fast path' : 'node:http path'})`, () => {
    const closers: (() => Promise<unknown>)[] = [];
    after(async () => {
      for (const c of closers.reverse()) await c();
    });
    const backend = async (...args: Parameters<typeof startBackend>): Promise<TinyBackend> => {
      const b = await startBackend(...args);
      closers.push(() => b.close());
      return b;
    };
    const gateway = async (yaml: string, options: Partial<GatewayOptions> = {}) => {
      const g = await startGateway(yaml, { fastPath, ...options });
      closers.push(() => g.gw.close());
      return g;
    };

    it('passes bodies and headers through, says who answered, and rewrites the model name', async () => {
      const a = await backend('a');
      const { url } = await gateway(`
services:
  digits:
    variants:
      - { tag: v1, endpoints: "list://${a.address}", modelName: mnist, modelVersion: 2 }
`);
      const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      const res = await post(url, '/v2/models/digits/infer?x=1', bytes, {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': '12',
      });
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(bytes), 'binary body intact');
      assert.equal(res.headers['x-flotilla-service'], 'digits');
      assert.equal(res.headers['x-flotilla-variant'], 'v1');
      assert.equal(res.headers['x-flotilla-replica'], a.address);
      assert.equal(res.headers['x-path'], '/v2/models/mnist/versions/2/infer?x=1');
      assert.equal(res.headers['content-type'], 'application/octet-stream');
      // Large enough for many reads, small enough to be buffered (and retryable) on either path.
      const big = Buffer.alloc(2 * 1024 * 1024, 3);
      const bigRes = await post(url, '/v2/models/digits/infer', big, {
        'content-type': 'application/octet-stream',
      });
      assert.equal(bigRes.status, 200);
      assert.ok(bigRes.body.equals(big));
      const head = await rawRequest(url, 'HEAD', '/v2/models/digits/infer');
      assert.equal(head.body.length, 0);
      const tf = await post(url, '/v1/models/digits:predict');
      assert.equal(tf.headers['x-path'], '/v1/models/mnist/versions/2:predict');
      const paddle = await post(url, '/digits/prediction');
      assert.equal(paddle.headers['x-path'], '/mnist/prediction');
    });

    it('answers 404 naming the known services, and for an unknown forced variant', async () => {
      const a = await backend('a');
      const { url } = await gateway(
        `services: { one: { variants: [{ tag: v1, endpoints: "${a.address}" }] }, two: { variants: [{ tag: v1, endpoints: "${a.address}" }] } }`,
      );
      const res = await post(url, '/v2/models/three/infer');
      assert.equal(res.status, 404);
      assert.deepEqual(JSON.parse(res.body.toString()), {
        error: 'no service routes POST /v2/models/three/infer; known services: one, two',
        code: 'FLT_SERVICE_NOT_FOUND',
      });
      const forced = await post(url, '/v2/models/one/infer', '{}', { 'x-flotilla-variant': 'v9' });
      assert.equal(forced.status, 404);
      assert.match(
        forced.body.toString(),
        /service one has no variant v9; variants: v1.*FLT_VARIANT_NOT_FOUND/,
      );
      assert.equal((await rawRequest(url, 'GET', '/v2/health/ready')).status, 200);
    });

    it('retries a 503 on another replica and ejects the replica that keeps answering 503', async () => {
      const good = await backend('good');
      const bad = await backend('bad', (_req, res) =>
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}'),
      );
      const { url, gw } = await gateway(`
services:
  m:
    healthCheck: false
    outlierDetection: { consecutive5xx: 3, baseEjectionTime: 60s }
    variants: [{ tag: v1, endpoints: "list://${good.address}, ${bad.address}" }]
`);
      for (let i = 0; i < 60; i++) {
        const res = await post(url, '/v2/models/m/infer');
        assert.equal(res.status, 200, `request ${i}`);
        assert.equal(res.headers['x-flotilla-replica'], good.address);
      }
      assert.equal(bad.hits, 3, 'ejected after three 503s in a row');
      const replica = gw.state().services[0]!.variants[0]!.replicas.find((r) => r.id === bad.address)!;
      assert.equal(replica.ejected, true);
      assert.equal(replica.ejections, 1);
      assert.match(
        await (await fetch(`${url}/_flotilla/metrics`)).text(),
        /flotilla_gateway_retries_total\{service="m"\} 3/,
      );
    });

    it('retries refused connections, and answers 502 when every try fails', async () => {
      const good = await backend('good');
      const dead = await backend('dead');
      await dead.close();
      const { url } = await gateway(`
services:
  m:
    healthCheck: false
    variants: [{ tag: v1, endpoints: "list://${dead.address}, ${good.address}" }]
  gone:
    healthCheck: false
    variants: [{ tag: v1, endpoints: "list://${dead.address}" }]
`);
      for (let i = 0; i < 20; i++) assert.equal((await post(url, '/v2/models/m/infer')).status, 200);
      const res = await post(url, '/v2/models/gone/infer');
      assert.equal(res.status, 502);
      assert.match(res.body.toString(), /ECONNREFUSED.*FLT_UPSTREAM_FAILED/);
      assert.equal(res.headers['x-flotilla-replica'], dead.address);
    });

    it('retries refused connections outside the retry budget, which still holds back other retries', async () => {
      const good = await backend('good');
      const busy = await backend('busy', (_req, res) =>
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}'),
      );
      const dead = await backend('dead');
      await dead.close();
      // A budget of nothing: only retries that reached no replica may go ahead.
      const { url } = await gateway(`
services:
  refused:
    healthCheck: false
    outlierDetection: false
    retry: { budgetPercent: 0, minRetryConcurrency: 0 }
    variants: [{ tag: v1, endpoints: "list://${dead.address}, ${good.address}" }]
  overloaded:
    healthCheck: false
    outlierDetection: false
    retry: { budgetPercent: 0, minRetryConcurrency: 0 }
    variants: [{ tag: v1, endpoints: "list://${busy.address}, ${good.address}" }]
`);
      for (let i = 0; i < 20; i++) {
        const res = await post(url, '/v2/models/refused/infer');
        assert.equal(res.status, 200, `request ${i}`);
        assert.equal(res.headers['x-flotilla-replica'], good.address);
      }
      const statuses = new Set<number>();
      for (let i = 0; i < 20; i++) statuses.add((await post(url, '/v2/models/overloaded/infer')).status);
      assert.deepEqual([...statuses].sort(), [200, 503], 'a 503 is not retried without budget');
    });

    it('times out a slow try and retries it elsewhere; 504 when nothing answers in time', async () => {
      const slow = await backend('slow', (req, res, body, name) =>
        setTimeout(() => echo(req, res, body, name), 1500),
      );
      const fast = await backend('fast');
      const { url } = await gateway(`
services:
  m:
    healthCheck: false
    balancer: round_robin
    timeouts: { perTry: 200ms, total: 1s }
    variants: [{ tag: v1, endpoints: "list://${slow.address}, ${fast.address}" }]
  s:
    healthCheck: false
    timeouts: { perTry: 2s, total: 300ms }
    variants: [{ tag: v1, endpoints: "list://${slow.address}" }]
`);
      for (let i = 0; i < 4; i++) {
        const res = await post(url, '/v2/models/m/infer');
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-flotilla-replica'], fast.address);
      }
      const t0 = Date.now();
      const res = await post(url, '/v2/models/s/infer');
      assert.equal(res.status, 504);
      assert.match(res.body.toString(), /FLT_UPSTREAM_TIMEOUT/);
      assert.ok(Date.now() - t0 < 1000, 'the overall timeout ends the request');
    });

    it('streams answers as they come and bodies larger than the buffer', async () => {
      const chunked = await backend('chunked', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first ');
        setTimeout(() => res.end('second'), 300);
      });
      const { url } = await gateway(
        `services: { m: { healthCheck: false, variants: [{ tag: v1, endpoints: "${chunked.address}" }] } }`,
        {
          maxBufferBytes: 1024,
        },
      );
      const firstAt = await new Promise<{ ms: number; text: string }>((resolve, reject) => {
        const t0 = Date.now();
        const req = httpRequest(`${url}/v2/models/m/infer`, { method: 'POST' }, (res) => {
          let text = '';
          let ms = -1;
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (ms < 0) ms = Date.now() - t0;
            text += d;
          });
          res.on('end', () => resolve({ ms, text }));
        });
        req.on('error', reject);
        req.end('{}');
      });
      assert.equal(firstAt.text, 'first second');
      assert.ok(firstAt.ms < 250, `first bytes after ${firstAt.ms} ms: the answer was buffered`);

      const big = await backend('big');
      const g2 = await gateway(`services: { m: { variants: [{ tag: v1, endpoints: "${big.address}" }] } }`, {
        maxBufferBytes: 1024,
      });
      const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
      const res = await post(g2.url, '/v2/models/m/infer', bytes);
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(bytes));
    });

    it('mirrors a share of requests to a variant whose answers are dropped', async () => {
      const main = await backend('main');
      const shadow = await backend('shadow', (_req, res) => res.writeHead(500).end('shadow fails'));
      const { url } = await gateway(`
services:
  m:
    healthCheck: false
    outlierDetection: false
    mirror: { variant: shadow, percent: 50 }
    variants:
      - { tag: main, weight: 1, endpoints: "${main.address}" }
      - { tag: shadow, weight: 0, endpoints: "${shadow.address}" }
`);
      for (let i = 0; i < 200; i++) {
        const res = await post(url, '/v2/models/m/infer', `{"i":${i}}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-flotilla-variant'], 'main');
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(main.hits, 200);
      assert.ok(shadow.hits > 70 && shadow.hits < 130, `shadow saw ${shadow.hits} of 200`);
    });

    it('routes by Host header and path prefix', async () => {
      const a = await backend('a');
      const b = await backend('b');
      const { url } = await gateway(`
services:
  hosted: { host: mnist.example.com, variants: [{ tag: v1, endpoints: "${a.address}" }] }
  prefixed: { path: /p, variants: [{ tag: v1, endpoints: "${b.address}" }] }
`);
      const h = await post(url, '/image/prediction', '{}', { host: 'mnist.example.com' });
      assert.equal(h.headers['x-backend'], 'a');
      assert.equal(h.headers['x-path'], '/image/prediction');
      const p = await post(url, '/p/v2/models/prefixed/infer');
      assert.equal(p.headers['x-backend'], 'b');
      assert.equal(p.headers['x-path'], '/v2/models/prefixed/infer');
    });

    it('moves traffic off a replica whose health check fails', async () => {
      let readyStatus = 200;
      const a = await backend('a', echo, () => readyStatus);
      const b = await backend('b');
      const { url, gw } = await gateway(`
services:
  m:
    healthCheck: { interval: 50ms, unhealthyThreshold: 2, healthyThreshold: 1 }
    variants: [{ tag: v1, endpoints: "list://${a.address}, ${b.address}" }]
`);
      readyStatus = 503;
      await new Promise((r) => setTimeout(r, 300));
      const replica = () => gw.state().services[0]!.variants[0]!.replicas.find((r) => r.id === a.address)!;
      assert.equal(replica().healthy, false);
      assert.equal(replica().lastHealthError, 'HTTP 503');
      const before = a.hits;
      for (let i = 0; i < 20; i++)
        assert.equal((await post(url, '/v2/models/m/infer')).headers['x-backend'], 'b');
      assert.equal(a.hits, before);
      readyStatus = 200;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(replica().healthy, true);
    });
  });
}
