import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { seededRandom, silentLogger, systemClock } from '../../src/core/index.js';
import { Gateway, type GatewayOptions, type ReplicaRuntime } from '../../src/gateway/index.js';
import { LeastRequestBalancer } from '../../src/lb/index.js';
import { parseServiceFile } from '../../src/spec/index.js';

/** A replica on a plain `net` server: records every byte it receives, answers each head `ok`. */
async function recordingBackend(answer = 'ok'): Promise<{ server: Server; port: number; raw: () => string }> {
  let raw = '';
  const server = createServer((socket) => {
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      raw += d;
      pending += d;
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(end + 4);
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${answer.length}\r\n\r\n${answer}`);
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, raw: () => raw };
}

/** Everything a socket receives until it closes (or `ms` pass). */
async function untilClosed(s: Socket, ms = 5_000): Promise<{ text: string; closed: boolean }> {
  let text = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => (text += d));
  const closed = await Promise.race([
    once(s, 'close').then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
  return { text, closed };
}

describe('gateway client connections: smuggling, backpressure, deadlines, request memory (issues 18, 19)', () => {
  const closers: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  async function gateway(port: number, options: Partial<GatewayOptions> = {}): Promise<number> {
    const random = seededRandom(7);
    const yaml = `services: { m: { healthCheck: false, variants: [{ tag: v1, endpoints: "127.0.0.1:${port}" }] } }`;
    const gw = new Gateway(
      parseServiceFile(parse(yaml), 's.yaml'),
      { host: '127.0.0.1', port: 0, headerTimeoutMs: 300, bodyTimeoutMs: 300, bodyMinRate: 1e6, ...options },
      {
        clock: systemClock,
        random,
        logger: silentLogger,
        balancer: () => new LeastRequestBalancer<ReplicaRuntime>({}, { random }),
      },
    );
    closers.push(() => gw.close());
    return (await gw.listen()).port;
  }
  const open = async (port: number): Promise<Socket> => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    await once(s, 'connect');
    return s;
  };

  const attacks: [string, string][] = [
    ['a bare LF inside a header value', 'X: a\nGET /smuggled HTTP/1.1'],
    ['a bare CR ending a header line', 'X: a\rGET /smuggled HTTP/1.1'],
    ['two Host headers', 'Host: other'],
    ['an empty header name', ': x'],
    ['whitespace before a colon', 'Content-Length : 0'],
    ['Content-Length with Transfer-Encoding', 'Transfer-Encoding: chunked'],
  ];
  for (const fastPath of [true, false]) {
    for (const [what, line] of attacks) {
      it(`answers ${what} 400 and forwards nothing (${fastPath ? 'fast path' : 'node:http path'})`, async () => {
        const backend = await recordingBackend();
        closers.push(() => new Promise((r) => backend.server.close(r)));
        const port = await gateway(backend.port, { fastPath });
        const s = await open(port);
        s.write(`GET /v2/models/m HTTP/1.1\r\nHost: x\r\n${line}\r\nContent-Length: 0\r\n\r\n`);
        const { text, closed } = await untilClosed(s);
        assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
        if (fastPath || what === 'two Host headers') assert.match(text, /FLT_INVALID_HTTP/);
        assert.ok(closed);
        assert.equal(backend.raw(), '', 'the backend saw nothing');
        // The same connection setup with a clean head does reach the backend.
        const t = await open(port);
        t.write('GET /v2/models/m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.match((await untilClosed(t)).text, /\r\n\r\nok$/);
        assert.match(backend.raw(), /^GET \/v2\/models\/m HTTP\/1\.1\r\n/);
      });
    }
  }

  it('routes an absolute-form target by its path and sends it upstream in origin-form', async () => {
    const backend = await recordingBackend();
    closers.push(() => new Promise((r) => backend.server.close(r)));
    const port = await gateway(backend.port);
    const s = await open(port);
    s.write('GET http://x/v2/models/m?v=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match((await untilClosed(s)).text, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
    assert.match(backend.raw(), /^GET \/v2\/models\/m\?v=1 HTTP\/1\.1\r\n/);
  });

  // Issue 19 finding 2: the gateway held 650–770 MB for a client that never read its answers.
  it('stops reading a client that pipelines requests and never reads the answers', async () => {
    const big = 'a'.repeat(1024 * 1024);
    const backend = await recordingBackend(big);
    closers.push(() => new Promise((r) => backend.server.close(r)));
    const port = await gateway(backend.port);
    const s = await open(port);
    const one = 'GET /v2/models/m HTTP/1.1\r\nHost: x\r\n\r\n';
    const flood = Buffer.from(one.repeat(Math.ceil((8 * 1024 * 1024) / one.length)));
    s.write(flood);
    await new Promise((r) => setTimeout(r, 700));
    const forwarded = backend.raw().split('\r\n\r\n').length - 1;
    assert.ok(forwarded < 64, `${forwarded} of ${flood.length / one.length} requests forwarded`);
    assert.ok(s.writableLength > 2 * 1024 * 1024, `${s.writableLength} bytes left unread by the gateway`);
    s.destroy();
  });

  it('answers the next client after one that left with answers unread (no paused connection pooled)', async () => {
    // Found by the reliability suite: an answer that completed in the read that filled the slow
    // client's buffer left its upstream connection paused, and the pool handed it to the next
    // request, which then never saw its answer.
    const backend = await recordingBackend('b'.repeat(48 * 1024));
    closers.push(() => new Promise((r) => backend.server.close(r)));
    const port = await gateway(backend.port);
    const slow = await open(port);
    slow.pause();
    slow.write('GET /v2/models/m HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(400));
    await new Promise((r) => setTimeout(r, 700));
    slow.destroy();
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 3; i++) {
      const s = await open(port);
      s.write('GET /v2/models/m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const { text, closed } = await untilClosed(s, 3_000);
      assert.ok(
        closed && text.startsWith('HTTP/1.1 200'),
        `request ${i}: ${text.slice(0, 80) || 'no answer'}`,
      );
    }
  });

  // Issue 19 finding 4: 300 slowloris connections held the gateway for 80 s.
  for (const fastPath of [true, false]) {
    it(`cuts a head slower than the header deadline (${fastPath ? 'fast path' : 'node:http path'})`, async () => {
      const backend = await recordingBackend();
      closers.push(() => new Promise((r) => backend.server.close(r)));
      const port = await gateway(backend.port, { fastPath });
      const s = await open(port);
      const started = Date.now();
      s.write('GET /v2/models/m HTTP/1.1\r\nHo');
      const timer = setInterval(() => s.write('o'), 100);
      const { text, closed } = await untilClosed(s);
      clearInterval(timer);
      const took = Date.now() - started;
      assert.ok(closed);
      assert.match(text, /^HTTP\/1\.1 408 /);
      assert.ok(took >= 300 && took < 1_500, `cut after ${took} ms`);
    });
  }

  // Issue 19 finding 3: partial bodies held without a gateway-wide bound.
  it('answers 503 FLT_OVERLOADED once unfinished requests hold the gateway-wide limit', async () => {
    const backend = await recordingBackend();
    closers.push(() => new Promise((r) => backend.server.close(r)));
    const port = await gateway(backend.port, {
      requestMemoryBytes: 200 * 1024,
      maxBufferBytes: 64 * 1024,
      bodyTimeoutMs: 10_000,
    });
    const answers: Promise<{ text: string; closed: boolean }>[] = [];
    const sockets: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await open(port);
      answers.push(untilClosed(s, 300));
      s.write(
        `POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n${'a'.repeat(60 * 1024)}`,
      );
      sockets.push(s);
      await new Promise((r) => setTimeout(r, 20));
    }
    const got = await Promise.all(answers);
    assert.deepEqual(
      got.map((g) => /^HTTP\/1\.1 (\d+)/.exec(g.text)?.[1] ?? 'none'),
      ['none', 'none', 'none', '503'],
    );
    assert.match(got[3]!.text, /FLT_OVERLOADED/);
    for (const s of sockets) s.destroy();
  });
});
