import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { seededRandom, silentLogger, systemClock } from '../../src/core/index.js';
import { ChunkedScanner, parseRequestHead, parseResponseHead } from '../../src/gateway/http1/index.js';
import { Gateway, type ReplicaRuntime } from '../../src/gateway/index.js';
import { LeastRequestBalancer } from '../../src/lb/index.js';
import { parseServiceFile } from '../../src/spec/index.js';
import { echo, startBackend } from '../fixtures/services/gateway-helpers.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('fast path: request heads', () => {
  it('reads what routing and framing need, and marks hop-by-hop lines', () => {
    const text =
      'POST /v2/models/m/infer?x=1 HTTP/1.1\r\nHost: GW.example.com\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\nX-Flotilla-Key: user-1\r\nx-flotilla-variant: canary\r\n\r\n{}NEXT';
    const r = parseRequestHead(bytes(text), 65536);
    assert.equal(r.kind, 'head');
    if (r.kind !== 'head') return;
    const h = r.head;
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/v2/models/m/infer?x=1');
    assert.equal(h.host, 'GW.example.com');
    assert.equal(h.contentLength, 2);
    assert.equal(h.close, true);
    assert.equal(h.key, 'user-1');
    assert.equal(h.variant, 'canary');
    assert.equal(text.slice(h.headEnd, h.headEnd + 2), '{}');
    assert.deepEqual([text.slice(h.drop[0], h.drop[1])], ['Connection: keep-alive, close\r\n']);
  });

  const cases: [string, string, 'incomplete' | 'unsupported' | 'invalid' | 'head'][] = [
    ['a partial head', 'GET / HTTP/1.1\r\nHost: a', 'incomplete'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n', 'unsupported'],
    ['an absolute target', 'GET http://a/ HTTP/1.1\r\n\r\n', 'unsupported'],
    ['a chunked body', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', 'unsupported'],
    [
      'Expect: 100-continue',
      'POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n',
      'unsupported',
    ],
    ['an upgrade', 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n', 'unsupported'],
    ['two different lengths', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'invalid'],
    ['a bad length', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 'invalid'],
    ['a folded header', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n', 'invalid'],
    ['a line without a colon', 'GET / HTTP/1.1\r\nnonsense\r\n\r\n', 'invalid'],
    // Issue 18's smuggling findings: each was forwarded upstream by the fast path.
    [
      'a bare LF inside a header value',
      'GET / HTTP/1.1\r\nHost: a\r\nX: a\nGET /s HTTP/1.1\r\n\r\n',
      'invalid',
    ],
    ['a bare CR ending a header line', 'GET / HTTP/1.1\r\nX: a\rHost: b\r\n\r\n', 'invalid'],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'invalid'],
    ['an empty header name', 'GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n', 'invalid'],
    ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'invalid'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nX: a\0\r\n\r\n', 'invalid'],
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      'invalid',
    ],
    ['a plain GET', 'GET /v2/health/ready HTTP/1.1\r\nHost: a\r\n\r\n', 'head'],
  ];
  for (const [what, text, kind] of cases) {
    it(`${what}: ${kind}`, () => assert.equal(parseRequestHead(bytes(text), 65536).kind, kind));
  }
  it('hands over heads larger than the limit', () => {
    assert.equal(parseRequestHead(bytes(`GET / HTTP/1.1\r\nA: ${'x'.repeat(100)}`), 64).kind, 'unsupported');
  });
});

describe('fast path: response heads and chunked bodies', () => {
  const head = (text: string, method = 'POST') => {
    const r = parseResponseHead(bytes(text), method);
    assert.equal(r.kind, 'head', text);
    return r.kind === 'head' ? r.head : undefined!;
  };
  it('frames by length, chunks, close, or nothing', () => {
    assert.deepEqual(
      [
        head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n').framing,
        head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n').length,
      ],
      ['length', 5],
    );
    assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').framing, 'chunked');
    assert.equal(head('HTTP/1.1 200 OK\r\n\r\n').framing, 'close');
    assert.equal(head('HTTP/1.1 200 OK\r\n\r\n').keepAlive, false);
    assert.equal(head('HTTP/1.1 204 No Content\r\n\r\n').framing, 'none');
    assert.equal(head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD').framing, 'none');
    assert.equal(head('HTTP/1.1 503 x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n').keepAlive, false);
    assert.equal(head('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n').keepAlive, false);
    assert.equal(
      head('HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n').keepAlive,
      true,
    );
    const h = head(
      'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n',
    );
    assert.equal(h.drop.length, 4);
  });
  it('skips interim answers and refuses garbage', () => {
    assert.equal(
      parseResponseHead(bytes('HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n'), 'GET').kind,
      'interim',
    );
    assert.equal(parseResponseHead(bytes('SSH-2.0-OpenSSH\r\n\r\n'), 'GET').kind, 'invalid');
    assert.equal(
      parseResponseHead(bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'), 'GET')
        .kind,
      'invalid',
    );
  });
  it('finds the end of a chunked body across reads, extensions and trailers included', () => {
    const body = '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT';
    for (let cut = 1; cut < body.length - 4; cut++) {
      const s = new ChunkedScanner();
      const first = s.scan(bytes(body.slice(0, cut)), 0);
      const end = first >= 0 ? first : cut + s.scan(bytes(body.slice(cut)), 0);
      assert.equal(end, body.length - 4, `cut at ${cut}`);
    }
    assert.throws(() => new ChunkedScanner().scan(bytes('zz\r\n'), 0), /bad chunk size/);
  });
});

describe('fast path: connections', () => {
  const closers: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  /** Starts a gateway for `yaml` (least-request balancing, seeded), closed after the suite. */
  async function startGateway(yaml: string, seed: number): Promise<{ gw: Gateway; port: number }> {
    const random = seededRandom(seed);
    const gw = new Gateway(
      parseServiceFile(parse(yaml), 's.yaml'),
      { host: '127.0.0.1', port: 0 },
      {
        clock: systemClock,
        random,
        logger: silentLogger,
        balancer: () => new LeastRequestBalancer<ReplicaRuntime>({}, { random }),
      },
    );
    const { port } = await gw.listen();
    closers.push(() => gw.close());
    return { gw, port };
  }

  /** Sends raw bytes on one connection and collects what comes back until `until` matches. */
  async function exchange(port: number, text: string, until: RegExp): Promise<string> {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    let got = '';
    s.setEncoding('latin1');
    const done = new Promise<void>((resolve) => {
      s.on('data', (d: string) => {
        got += d;
        if (until.test(got)) resolve();
      });
      s.on('close', () => resolve());
    });
    s.write(text);
    await done;
    s.destroy();
    return got;
  }

  it('answers pipelined requests in order, then hands the connection to node:http for the admin API', async () => {
    const a = await startBackend('a');
    closers.push(() => a.close());
    const { port } = await startGateway(
      `services: { m: { healthCheck: false, variants: [{ tag: v1, endpoints: "${a.address}" }] } }`,
      1,
    );
    const req = (body: string, extra = ''): string =>
      `POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
    const got = await exchange(
      port,
      req('{"n":1}') +
        req('{"n":2}') +
        'GET /_flotilla/metrics HTTP/1.1\r\nHost: x\r\n\r\n' +
        req('{"n":3}', 'Connection: close\r\n'),
      /\{"n":3\}$/,
    );
    const answers = got.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 4);
    assert.match(
      answers[0]!,
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*x-flotilla-variant: v1\r\n[\s\S]*\r\n\r\n\{"n":1\}$/,
    );
    assert.match(answers[1]!, /\{"n":2\}$/);
    assert.match(answers[2]!, /flotilla_gateway_requests_total/);
    // The last request went through node:http (handed over), answered and closed as asked.
    assert.match(answers[3]!, /x-flotilla-replica: 127\.0\.0\.1:\d+\r\n/i);
    assert.match(answers[3]!, /connection: close/i);
    assert.doesNotMatch(
      answers[0]!,
      /keep-alive: timeout/i,
      'the replica’s hop-by-hop headers stay upstream',
    );
  });

  it('retries a reused keep-alive connection the replica had closed, without holding it against the replica', async () => {
    // Answers the first request of each connection, then drops the connection on the next one:
    // the race between a replica closing an idle connection and the gateway reusing it.
    const racy = createServer((socket) => {
      let served = 0;
      socket.on('data', () => {
        if (served++ === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        else socket.destroy();
      });
    });
    racy.listen(0, '127.0.0.1');
    await once(racy, 'listening');
    closers.push(() => new Promise((r) => racy.close(r)));
    const port = (racy.address() as { port: number }).port;
    const { gw, port: gwPort } = await startGateway(
      `
services:
  m:
    healthCheck: false
    outlierDetection: { consecutiveGatewayErrors: 1 }
    variants: [{ tag: v1, endpoints: "list://127.0.0.1:${port}, localhost:${port}" }]
`,
      2,
    );
    for (let i = 0; i < 10; i++) {
      const got = await exchange(
        gwPort,
        'GET /v2/models/m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        /\r\n\r\nok$/,
      );
      assert.match(got, /^HTTP\/1\.1 200 OK/, `request ${i}`);
    }
    for (const r of gw.state().services[0]!.variants[0]!.replicas) assert.equal(r.ejections, 0, r.id);
  });

  it('retries requests a killed replica dropped on the other replica, outside the retry budget', async () => {
    // A replica that answers until it is killed: then the requests in flight on its kept-alive
    // connections are dropped with them, and new connections are refused.
    const sockets = new Set<Socket>();
    let killing = false;
    let held = 0;
    let someHeld: () => void = () => {};
    const heldOne = new Promise<void>((r) => (someHeld = r));
    const doomed = createServer((socket) => {
      // Only connections from before the kill hold requests (new ones would be no keep-alive race).
      const old = !killing;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('data', () => {
        if (killing && old) {
          held++;
          someHeld();
          // A little slow, so that requests at the same time need connections of their own.
        } else setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 20);
      });
    });
    doomed.listen(0, '127.0.0.1');
    await once(doomed, 'listening');
    closers.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => doomed.close(r));
    });
    const doomedPort = (doomed.address() as { port: number }).port;
    // Slower than the doomed replica: a retry free to choose would go back to the doomed one.
    const good = await startBackend('good', (req, res, body, name) =>
      setTimeout(() => echo(req, res, body, name), 50),
    );
    closers.push(() => good.close());
    // No retry budget at all, and one retry: the one retry must go to the other replica at once.
    const { port: gwPort } = await startGateway(
      `
services:
  m:
    healthCheck: false
    outlierDetection: false
    retry: { maxRetries: 1, budgetPercent: 0, minRetryConcurrency: 0 }
    variants: [{ tag: v1, endpoints: "list://127.0.0.1:${doomedPort}, ${good.address}" }]
`,
      3,
    );
    const send = (): Promise<string> =>
      exchange(
        gwPort,
        'POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
        /\r\n\r\n(ok|\{\})$/,
      );
    const batch = (n: number): Promise<string[]> => Promise.all(Array.from({ length: n }, send));
    // Leaves kept-alive connections to the doomed replica in the gateway's pool.
    for (const got of await batch(8)) assert.match(got, /^HTTP\/1\.1 200 /);
    assert.ok(sockets.size >= 2, `${sockets.size} connections to the doomed replica`);
    killing = true;
    const inFlight = batch(8);
    await heldOne;
    doomed.close();
    for (const s of sockets) s.resetAndDestroy();
    const answers = [...(await inFlight), ...(await batch(8))];
    assert.ok(held > 0);
    for (const [i, got] of answers.entries()) {
      assert.match(got, /^HTTP\/1\.1 200 /, `request ${i}`);
      assert.match(got, new RegExp(`x-flotilla-replica: ${good.address}\r\n`), `request ${i}`);
    }
  });
});
