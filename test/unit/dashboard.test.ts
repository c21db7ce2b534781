/**
 * The dashboard's server side: sessions, the history ring, frames, and its HTTP surface (sign-in,
 * CSRF guard, CSP, static files, the event stream) on a real node:http server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { createLogger } from '../../src/core/index.js';
import type { StatusReport } from '../../src/fleet/index.js';
import { type AdminTarget, type GatewayState, handleAdmin } from '../../src/gateway/index.js';
import {
  buildFrame,
  CONTENT_SECURITY_POLICY,
  countersOf,
  DASHBOARD_DEFAULTS,
  Dashboard,
  HistoryRing,
  historyPoint,
  SESSION_DEFAULTS,
  SessionStore,
} from '../../src/ui/index.js';

const TOKEN = 'unit-dashboard-token';

function gatewayState(atMs: number, requests: number, errors: number): GatewayState {
  return {
    atMs,
    services: [
      {
        name: 'web',
        hosts: [],
        balancer: 'least_request',
        activeRequests: 0,
        activeRetries: 0,
        variants: [
          {
            tag: 'stable',
            weight: 90,
            modelName: 'web',
            runs: 'command',
            inflight: 3,
            requests,
            errors,
            concurrencyIntegral: 0,
            replicas: [
              {
                id: '127.0.0.1:9001',
                active: 2,
                healthy: true,
                ejected: false,
                ejections: 0,
                requests,
                errors,
              },
              {
                id: '127.0.0.1:9002',
                active: 1,
                healthy: true,
                ejected: true,
                ejections: 1,
                requests: 0,
                errors: 0,
              },
            ],
          },
        ],
      },
    ],
  };
}

const fleetStatus: StatusReport = {
  atMs: 0,
  events: Array.from({ length: 80 }, (_, i) => ({
    atMs: i,
    kind: 'scale' as const,
    service: 'web',
    message: `e${i}`,
  })),
  services: [
    {
      name: 'web',
      hosts: [],
      variants: [
        {
          tag: 'stable',
          weight: 90,
          runs: 'command',
          modelName: 'web',
          inflight: 3,
          requests: 0,
          errors: 0,
          scale: { desired: 3, ready: 2, min: 1, max: 4, pinned: false, panic: true, queued: 0 },
          replicas: [
            {
              id: 'web/stable#1',
              state: 'ready',
              address: '127.0.0.1:9001',
              inflight: 2,
              restarts: 0,
              startMs: 120,
            },
            { id: 'web/stable#2', state: 'ready', address: '127.0.0.1:9002', inflight: 1, restarts: 1 },
            { id: 'web/stable#3', state: 'starting', inflight: 0, restarts: 0 },
          ],
        },
      ],
    },
  ],
};

describe('dashboard defaults', () => {
  it('pins the defaults', () => {
    assert.deepEqual(
      { ...DASHBOARD_DEFAULTS, sessions: { ...DASHBOARD_DEFAULTS.sessions } },
      {
        intervalMs: 1000,
        historySize: 300,
        latencyWindowMs: 5000,
        maxEvents: 50,
        secureCookie: false,
        sessions: { ttlMs: 43_200_000, maxSessions: 64 },
      },
    );
    assert.deepEqual({ ...SESSION_DEFAULTS }, { ttlMs: 43_200_000, maxSessions: 64 });
  });
});

describe('SessionStore', () => {
  it('makes opaque sessions that expire after ttlMs', () => {
    const store = new SessionStore({ ttlMs: 1000, maxSessions: 4 });
    const s = store.create(0);
    assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(s.id, s.csrf);
    assert.equal(store.get(s.id, 999)?.id, s.id);
    assert.equal(store.get(s.id, 1000), undefined);
    assert.equal(store.get(undefined, 0), undefined);
    assert.equal(store.get('made-up', 0), undefined);
  });

  it('ends the oldest session past maxSessions, and signs out on delete', () => {
    const store = new SessionStore({ ttlMs: 10_000, maxSessions: 2 });
    const a = store.create(0);
    const b = store.create(1);
    const c = store.create(2);
    assert.equal(store.get(a.id, 3), undefined);
    assert.ok(store.get(b.id, 3) && store.get(c.id, 3));
    store.delete(b.id);
    assert.equal(store.get(b.id, 3), undefined);
    assert.equal(store.size, 1);
  });
});

describe('HistoryRing', () => {
  it('keeps the last `size` entries, oldest first', () => {
    const ring = new HistoryRing<number>(3);
    assert.deepEqual(ring.list(), []);
    for (let i = 1; i <= 5; i++) ring.push(i);
    assert.deepEqual(ring.list(), [3, 4, 5]);
    assert.equal(ring.length, 3);
    assert.throws(() => new HistoryRing(0), RangeError);
  });
});

describe('buildFrame', () => {
  const inputs = {
    latency: () => ({ p50Ms: 10, p99Ms: 40 }),
    slo: () => ({ latencyMs: 50, errorRate: 0.01 }),
    maxEvents: 50,
  };

  it('turns counters into rates over the interval and joins ejections by address', () => {
    const first = gatewayState(1000, 100, 1);
    const second = gatewayState(3000, 300, 11);
    const frame = buildFrame({
      ...inputs,
      wallMs: 5,
      state: second,
      status: fleetStatus,
      previous: countersOf(first),
    });
    assert.equal(frame.mode, 'up');
    const v = frame.services[0]!.variants[0]!;
    assert.equal(v.rps, 100); // 200 answers in 2 s
    assert.equal(v.errorRate, 0.05); // 10 of 200
    assert.equal(v.p99Ms, 40);
    assert.equal(v.scale?.desired, 3);
    assert.deepEqual(
      v.replicas.map((r) => [r.id, r.state, r.ejected]),
      [
        ['web/stable#1', 'ready', false],
        ['web/stable#2', 'ready', true],
        ['web/stable#3', 'starting', false],
      ],
    );
    assert.deepEqual(frame.services[0]!.slo, { latencyMs: 50, errorRate: 0.01 });
    assert.equal(frame.events.length, 50);
    assert.equal(frame.events.at(-1)!.message, 'e79');
    const point = historyPoint(frame);
    assert.deepEqual(point.v[0], ['web', 'stable', 90, 100, 0.05, 10, 40, 3, 3, 2, 1]);
  });

  it('shows static replicas from the gateway alone (flotilla gateway), with no rate on the first frame', () => {
    const frame = buildFrame({ ...inputs, wallMs: 5, state: gatewayState(1000, 100, 1) });
    assert.equal(frame.mode, 'gateway');
    const v = frame.services[0]!.variants[0]!;
    assert.equal(v.rps, 0);
    assert.deepEqual(
      v.replicas.map((r) => [r.id, r.state, r.ejected, r.inflight]),
      [
        ['127.0.0.1:9001', 'static', false, 2],
        ['127.0.0.1:9002', 'static', true, 1],
      ],
    );
  });

  it('counts a restarted counter from zero instead of a negative rate', () => {
    const frame = buildFrame({
      ...inputs,
      wallMs: 5,
      state: gatewayState(2000, 30, 0),
      previous: countersOf(gatewayState(1000, 500, 0)),
    });
    assert.equal(frame.services[0]!.variants[0]!.rps, 30);
  });
});

describe('Dashboard over HTTP', () => {
  let server: Server;
  let url: string;
  let dashboard: Dashboard;
  let weightsSet = 0;
  const target = {
    routes: () => ({}),
    state: () => gatewayState(performance.now(), 0, 0),
    setWeights: () => {
      weightsSet++;
    },
    reload: async () => undefined,
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    status: () => fleetStatus,
    scale: () => ({}),
    rollout: async () => ({}),
  } as unknown as AdminTarget;

  before(async () => {
    const logger = createLogger('silent');
    dashboard = new Dashboard(
      { ...DASHBOARD_DEFAULTS, adminToken: TOKEN, intervalMs: 50 },
      {
        clock: { now: () => performance.now() },
        wallNow: () => Date.now(),
        logger,
        state: () => target.state(),
        status: () => fleetStatus,
        latency: () => ({}),
        slo: () => undefined,
      },
    );
    server = createServer((req, res) => void handleAdmin(req, res, target, TOKEN, logger, dashboard));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dashboard.start();
  });

  after(() => {
    dashboard.close();
    server.close();
  });

  const signIn = (token: string, headers: Record<string, string> = { origin: url }) =>
    request(`${url}/_flotilla/ui/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ token }),
    });

  it('serves the page and its files under a strict CSP, and nothing outside its list', async () => {
    const page = await request(`${url}/_flotilla/ui`);
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe/);
    const html = await page.body.text();
    assert.doesNotMatch(html, /<script>|<style>| style=|https?:\/\//);
    for (const name of ['uplot.js', 'uplot.css', 'charts.js', 'dashboard.js', 'dashboard.css']) {
      const res = await request(`${url}/_flotilla/ui/static/${name}`);
      assert.equal(res.statusCode, 200, name);
      assert.ok((await res.body.text()).length > 100, name);
    }
    for (const bad of ['../dashboard.ts', '..%2Fdashboard.ts', 'nope.js', 'toString', '__proto__']) {
      const res = await request(`${url}/_flotilla/ui/static/${bad}`);
      assert.equal(res.statusCode, 404, bad);
      await res.body.dump();
    }
  });

  it('refuses a wrong token, a sign-in from another origin, and a body that is not JSON', async () => {
    const wrong = await signIn('nope');
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);
    await wrong.body.dump();
    const foreign = await signIn(TOKEN, { origin: 'http://evil.example' });
    assert.equal(foreign.statusCode, 403);
    assert.match(await foreign.body.text(), /FLT_CSRF_REJECTED/);
    const noOrigin = await signIn(TOKEN, {});
    assert.equal(noOrigin.statusCode, 403);
    await noOrigin.body.dump();
    const form = await request(`${url}/_flotilla/ui/session`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}`,
    });
    assert.equal(form.statusCode, 400);
    await form.body.dump();
    const broken = await request(`${url}/_flotilla/ui/session`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/json' },
      body: '{"token":',
    });
    assert.equal(broken.statusCode, 400);
    assert.match(await broken.body.text(), /FLT_INVALID_JSON/);
    const huge = await request(`${url}/_flotilla/ui/session`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'x'.repeat(10_000) }),
    });
    assert.equal(huge.statusCode, 413);
    await huge.body.dump();
  });

  it('signs in to an HttpOnly SameSite=Strict cookie that is not the token; calls need the CSRF header', async () => {
    const res = await signIn(TOKEN);
    assert.equal(res.statusCode, 200);
    const { csrf } = (await res.body.json()) as { csrf: string };
    const setCookie = String(res.headers['set-cookie']);
    assert.match(
      setCookie,
      /^flotilla_session=[A-Za-z0-9_-]{43}; Path=\/_flotilla\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    assert.ok(!setCookie.includes(TOKEN));
    const cookie = setCookie.split(';')[0]!;

    const status = await request(`${url}/_flotilla/status`, { headers: { cookie } });
    assert.equal(status.statusCode, 200, 'a read needs only the session');
    await status.body.dump();

    const put = (headers: Record<string, string>) =>
      request(`${url}/_flotilla/services/web/weights`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', cookie, ...headers },
        body: JSON.stringify({ weights: { stable: 50 } }),
      });
    for (const headers of [
      {},
      { origin: url },
      { origin: url, 'x-flotilla-csrf': 'wrong' },
      { 'x-flotilla-csrf': csrf },
    ]) {
      const r = await put(headers);
      assert.equal(r.statusCode, 403, JSON.stringify(headers));
      assert.match(await r.body.text(), /FLT_CSRF_REJECTED/);
    }
    assert.equal(weightsSet, 0);
    const ok = await put({ origin: url, 'x-flotilla-csrf': csrf });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    assert.equal(weightsSet, 1);

    const info = await request(`${url}/_flotilla/ui/session`, { headers: { cookie } });
    assert.deepEqual(((await info.body.json()) as { csrf: string }).csrf, csrf);

    // Signing out needs the CSRF header too, then the cookie is worth nothing.
    const out = await request(`${url}/_flotilla/ui/session`, {
      method: 'DELETE',
      headers: { cookie, origin: url, 'x-flotilla-csrf': csrf },
    });
    assert.equal(out.statusCode, 200);
    await out.body.dump();
    const after = await request(`${url}/_flotilla/status`, { headers: { cookie } });
    assert.equal(after.statusCode, 401);
    await after.body.dump();
  });

  it('streams the history, then a frame every interval, to a signed-in browser only', async () => {
    const refused = await request(`${url}/_flotilla/ui/events`);
    assert.equal(refused.statusCode, 401);
    await refused.body.dump();
    const res = await signIn(TOKEN);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    await res.body.dump();
    const controller = new AbortController();
    const stream = await request(`${url}/_flotilla/ui/events`, {
      headers: { cookie },
      signal: controller.signal,
    });
    assert.equal(stream.statusCode, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    let text = '';
    for await (const chunk of stream.body) {
      text += String(chunk);
      if ((text.match(/event: frame/g) ?? []).length >= 3) break;
    }
    controller.abort();
    assert.match(text, /^retry: 2000\nevent: history\ndata: \[/);
    const frame = JSON.parse(
      /event: frame\ndata: (.*)\n/.exec(text.slice(text.lastIndexOf('event: frame')))![1]!,
    ) as {
      frame: { mode: string; services: { name: string }[] };
      point: { v: unknown[] };
    };
    assert.equal(frame.frame.mode, 'up');
    assert.equal(frame.frame.services[0]!.name, 'web');
    assert.equal(frame.point.v.length, 1);
    assert.ok(dashboard.watching <= 1);
  });
});
