import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  AdminApiError,
  AdminClient,
  AdminUnreachableError,
  parseWeights,
} from '../../src/client/admin-client.js';
import { FlotillaError } from '../../src/core/index.js';
import type { ServiceStatus, StatusReport } from '../../src/fleet/status.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

const service: ServiceStatus = {
  name: 'mnist',
  hosts: [],
  variants: [
    {
      tag: 'stable',
      weight: 90,
      runs: 'model',
      modelName: 'mnist',
      inflight: 0,
      requests: 5,
      errors: 0,
      scale: { desired: 3, ready: 1, min: 3, max: 3, pinned: true, panic: false, queued: 0 },
      replicas: [{ id: 'stable-0', state: 'ready', pid: 11, inflight: 0 }],
    },
  ],
  rollout: { phase: 'promoted', stable: 'stable', canary: 'canary', canaryWeight: 0 },
};

const report: StatusReport = {
  atMs: 1,
  services: [service],
  events: [{ atMs: 1, kind: 'scale', service: 'mnist', variant: 'stable', message: 'pinned at 3' }],
};

const send = (res: ServerResponse, status: number, body: unknown): void => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
};

/** Imitates the admin API of `flotilla up` (token `sesame`), recording what it was sent. */
function answer(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.authorization !== 'Bearer sesame') {
    send(res, 401, {
      error: 'Authorization: a valid "Bearer <admin token>" header is required',
      code: 'FLT_UNAUTHENTICATED',
    });
    return;
  }
  const route = `${req.method} ${req.url}`;
  if (route === 'GET /_flotilla/status') send(res, 200, report);
  else if (route === 'PUT /_flotilla/services/mnist/variants/stable/scale')
    send(res, 200, { ...service, scaled: { requested: 3, applied: 3 } });
  else if (route === 'PUT /_flotilla/services/mnist/weights')
    send(res, 200, { name: 'mnist', balancer: 'least_request', variants: [{ tag: 'stable', weight: 90 }] });
  else if (route === 'POST /_flotilla/services/mnist/rollout') send(res, 200, service);
  else if (route === 'POST /_flotilla/services/a%2Fb/rollout')
    send(res, 404, { error: 'no service named "a/b"; services: mnist', code: 'FLT_SERVICE_NOT_FOUND' });
  else if (route === 'POST /_flotilla/services/proxy/rollout') send(res, 502, 'Bad Gateway');
  else send(res, 404, { error: `no admin endpoint at ${route}`, code: 'FLT_ROUTE_NOT_FOUND' });
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

const urlOf = (server: Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('AdminClient', () => {
  const seen: Seen[] = [];
  let server: Server;
  let url: string;
  const clients: AdminClient[] = [];
  /** `null`: no token at all (`undefined` would take the default). */
  const client = (token: string | null = 'sesame', base = url): AdminClient => {
    const c = new AdminClient({ url: base, ...(token !== null ? { token } : {}), timeoutMs: 2000 });
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body: text === '' ? undefined : JSON.parse(text),
        });
        answer(req, res);
      });
    });
    url = urlOf(server);
  });
  after(async () => {
    for (const c of clients) await c.close();
    server.close();
  });
  const last = (): Seen => seen.at(-1)!;

  it('GETs the status report with the bearer token', async () => {
    assert.deepEqual(await client().status(), report);
    assert.deepEqual(last(), {
      method: 'GET',
      url: '/_flotilla/status',
      authorization: 'Bearer sesame',
      contentType: undefined,
      body: undefined,
    });
  });

  it('PUTs a scale, PUTs weights and POSTs rollout actions as JSON bodies', async () => {
    const c = client('sesame', `${url}/`);
    assert.deepEqual(await c.scale('mnist', 'stable', 3), {
      ...service,
      scaled: { requested: 3, applied: 3 },
    });
    assert.deepEqual(last(), {
      method: 'PUT',
      url: '/_flotilla/services/mnist/variants/stable/scale',
      authorization: 'Bearer sesame',
      contentType: 'application/json',
      body: { replicas: 3 },
    });
    await c.scale('mnist', 'stable', 3, true);
    assert.deepEqual(last().body, { replicas: 3, force: true });
    const weights = await c.setWeights('mnist', { stable: 90, canary: 10 });
    assert.deepEqual(weights.variants, [{ tag: 'stable', weight: 90 }]);
    assert.equal(weights.rollout, undefined);
    assert.deepEqual(last().body, { weights: { stable: 90, canary: 10 } });
    await c.setWeights('mnist', '90 | 10');
    assert.deepEqual(last().body, { weights: '90 | 10' });
    assert.deepEqual(await c.rollout('mnist', 'promote'), service);
    assert.equal(last().method, 'POST');
    assert.equal(last().url, '/_flotilla/services/mnist/rollout');
    assert.deepEqual(last().body, { action: 'promote' });
  });

  it("turns error answers into FlotillaErrors carrying the server's message and code", async () => {
    await assert.rejects(client().rollout('a/b', 'rollback'), (err: unknown) => {
      assert.ok(err instanceof AdminApiError && err instanceof FlotillaError);
      assert.equal(err.message, 'no service named "a/b"; services: mnist');
      assert.equal(err.code, 'FLT_SERVICE_NOT_FOUND');
      assert.equal(err.status, 404);
      return true;
    });
    await assert.rejects(client().rollout('proxy', 'start'), (err: unknown) => {
      assert.ok(err instanceof AdminApiError);
      assert.equal(err.message, 'HTTP 502: Bad Gateway');
      assert.equal(err.code, 'FLT_INTERNAL');
      assert.equal(err.serverCode, undefined);
      return true;
    });
  });

  it('says how to pass the admin token when it is missing or wrong', async () => {
    await assert.rejects(client(null).status(), (err: unknown) => {
      assert.ok(err instanceof AdminApiError);
      assert.equal(err.code, 'FLT_UNAUTHENTICATED');
      assert.equal(last().authorization, undefined);
      assert.match(err.message, /needs its admin token: pass --admin-token or set FLOTILLA_ADMIN_TOKEN/);
      assert.match(err.message, /Bearer <admin token>/);
      return true;
    });
    await assert.rejects(client('wrong').status(), /refused the admin token given: check --admin-token/);
  });

  it('explains a disabled admin API (403)', async () => {
    const off = await listen((_req, res) =>
      send(res, 403, { error: 'the admin API is disabled', code: 'FLT_ADMIN_DISABLED' }),
    );
    try {
      await assert.rejects(
        client('sesame', urlOf(off)).status(),
        (err: unknown) =>
          err instanceof AdminApiError &&
          err.code === 'FLT_ADMIN_DISABLED' &&
          /is disabled, as no admin token was set where it runs: restart it with --admin-token/.test(
            err.message,
          ),
      );
    } finally {
      off.close();
    }
  });

  it('refuses an answer of the wrong shape, naming the field', async () => {
    const odd = await listen((_req, res) => send(res, 200, { atMs: 1, services: 'no', events: [] }));
    try {
      await assert.rejects(
        client('sesame', urlOf(odd)).status(),
        /\/_flotilla\/status: unexpected answer \(services: /,
      );
    } finally {
      odd.close();
    }
  });

  it('says nothing listens when the connection is refused', async () => {
    const gone = await listen(() => {});
    const base = urlOf(gone);
    await new Promise((resolve) => gone.close(resolve));
    await assert.rejects(client('sesame', base).status(), (err: unknown) => {
      assert.ok(err instanceof AdminUnreachableError);
      assert.equal(
        err.message,
        `cannot reach flotilla up's admin API at ${base} (connection refused): is flotilla up running? (--url or FLOTILLA_URL to point elsewhere)`,
      );
      return true;
    });
  });
});

describe('parseWeights', () => {
  it('takes TAG=W pairs or one "90 | 10" string', () => {
    assert.deepEqual(parseWeights(['stable=90', 'canary=10']), { stable: 90, canary: 10 });
    assert.deepEqual(parseWeights(['a=0.5', 'b = 0']), { a: 0.5, b: 0 });
    assert.equal(parseWeights(['90|10']), '90 | 10');
    assert.equal(parseWeights([' 90 | 10 ']), '90 | 10');
  });

  it('refuses what is not non-negative numbers in TAG=W form', () => {
    const bad: [string[], RegExp][] = [
      [[], /no weights given/],
      [['90'], /"90" is not TAG=W/],
      [['=90'], /"=90" is not TAG=W/],
      [['a=-1'], /weight "-1" is not a number >= 0/],
      [['a=x'], /weight "x" is not a number >= 0/],
      [['a='], /weight "" is not a number >= 0/],
      [['a=1', 'a=2'], /variant a is given twice/],
      [['a=0', 'b=0'], /every weight is 0/],
      [['90 | ten'], /weight "ten" is not a number >= 0/],
      [['90 | '], /weight "" is not a number >= 0/],
    ];
    for (const [args, message] of bad) {
      assert.throws(
        () => parseWeights(args),
        (err: unknown) => err instanceof FlotillaError && message.test(err.message),
        args.join(' '),
      );
    }
  });
});
