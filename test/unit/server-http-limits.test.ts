import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../src/core/index.js';
import { type Handler, HttpServer, Router } from '../../src/server/index.js';

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

const BIG = Buffer.alloc(1024 * 1024, 97);

describe('server connections: strict heads, backpressure, deadlines, request memory (issues 18, 19)', () => {
  let server: HttpServer;
  let port: number;
  let served = 0;
  const errors: string[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
    error: (message, fields) => errors.push(`${message} ${fields?.['code']}`),
  };
  const router = new Router<Handler>()
    .add('POST', '/echo', async (req) => {
      served++;
      return { status: 200, body: await req.body() };
    })
    .add('GET', '/big', () => {
      served++;
      return { status: 200, body: BIG };
    });

  before(async () => {
    server = new HttpServer(
      {
        host: '127.0.0.1',
        port: 0,
        maxBodyBytes: 64 * 1024,
        headerTimeoutMs: 300,
        bodyTimeoutMs: 300,
        bodyMinRate: 1_000_000,
        requestMemoryBytes: 200 * 1024,
      },
      router,
      logger,
    );
    port = (await server.listen()).port;
  });
  after(() => server.close());

  const open = async (): Promise<Socket> => {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return s;
  };
  /** Sends a chunked request first, so the connection is on the node:http path. */
  const openFallback = async (): Promise<Socket> => {
    const s = await open();
    s.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    await once(s, 'data');
    return s;
  };

  // Issue 18: the server's fast path accepted a bare LF or NUL inside header values.
  const smuggling: [string, string][] = [
    ['a bare LF inside a header value', 'X: a\nGET /big HTTP/1.1'],
    ['a NUL inside a header value', 'X: a\0b'],
    ['two Host headers', 'Host: y'],
    ['an empty header name', ': x'],
    ['whitespace before a colon', 'X : a'],
  ];
  for (const [what, line] of smuggling) {
    it(`answers ${what} 400 FLT_INVALID_HTTP and closes, on the fast path`, async () => {
      const s = await open();
      const before = served;
      s.write(`POST /echo HTTP/1.1\r\nHost: x\r\n${line}\r\nContent-Length: 2\r\n\r\nok`);
      const { text, closed } = await untilClosed(s);
      assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(text, /"code":"FLT_INVALID_HTTP"/);
      assert.ok(closed);
      assert.equal(served, before, 'nothing was served');
    });
  }

  it('answers two Host headers 400 on the node:http path too (llhttp accepts them)', async () => {
    const s = await openFallback();
    const before = served;
    s.write('POST /echo HTTP/1.1\r\nHost: x\r\nHost: y\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    const { text, closed } = await untilClosed(s);
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*FLT_INVALID_HTTP/);
    assert.ok(closed);
    assert.equal(served, before);
  });

  it('routes an absolute-form target by its path, on both paths (it answered 404)', async () => {
    for (const s of [await open(), await openFallback()]) {
      s.write('POST http://x:1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi');
      const { text } = await untilClosed(s);
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhi$/);
    }
  });

  // Issue 19 finding 2: a client pipelining requests and never reading made the server buffer 1.2 GB.
  // node:http pauses too (it stops reading once a response waits behind another), but only after
  // the read it is parsing: every request in that 64 KiB read (2,000 of these) is dispatched.
  for (const [path, openIt, most] of [
    ['fast path', open, 64],
    ['node:http path', openFallback, 8_192],
  ] as const) {
    it(`stops reading a client that pipelines requests and never reads the answers (${path})`, async () => {
      const s = await openIt();
      s.on('error', () => undefined);
      const before = served;
      // 8 MiB of pipelined requests, each asking for 1 MiB: the answers fill the socket buffers
      // after a few, and then the server must stop reading (the requests stay in the client).
      const one = 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n';
      const flood = Buffer.from(one.repeat(Math.ceil((8 * 1024 * 1024) / one.length)));
      s.write(flood);
      await new Promise((r) => setTimeout(r, 500));
      const answered = served - before;
      assert.ok(answered < most, `${answered} of ${flood.length / one.length} requests answered unread`);
      assert.ok(s.writableLength > 2 * 1024 * 1024, `${s.writableLength} bytes left unread by the server`);
      assert.ok(server.heldRequestBytes < 1024 * 1024, `${server.heldRequestBytes} request bytes held`);
      s.destroy();
    });
  }

  // Issue 19 finding 4: slowloris (one byte every 10 s) was never cut off.
  it('cuts a head that does not complete within the header deadline: 408, then close', async () => {
    const s = await open();
    const started = Date.now();
    s.write('GET /big HTTP/1.1\r\nHo');
    const timer = setInterval(() => s.write('o'), 100);
    const { text, closed } = await untilClosed(s);
    clearInterval(timer);
    const took = Date.now() - started;
    assert.ok(closed);
    assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*FLT_REQUEST_TIMEOUT/);
    assert.ok(took >= 300 && took < 1_500, `cut after ${took} ms`);
  });

  it('cuts a slow head on the node:http path too (node:http tracks it only once told to)', async () => {
    const s = await openFallback();
    const started = Date.now();
    s.write('GET /big HTTP/1.1\r\nHo');
    const timer = setInterval(() => s.write('o'), 100);
    const { closed } = await untilClosed(s);
    clearInterval(timer);
    assert.ok(closed);
    assert.ok(Date.now() - started < 1_500, `cut after ${Date.now() - started} ms`);
  });

  it('cuts a body that falls behind the body deadline, on both paths', async () => {
    const fast = await open();
    fast.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    const slow = await openFallback();
    slow.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    const [a, b] = await Promise.all([untilClosed(fast), untilClosed(slow)]);
    assert.match(a.text, /^HTTP\/1\.1 408 [\s\S]*FLT_REQUEST_TIMEOUT/);
    assert.match(b.text, /^HTTP\/1\.1 408 [\s\S]*FLT_REQUEST_TIMEOUT/);
    assert.ok(a.closed && b.closed);
  });

  // Issue 19 finding 3: 20 connections each holding 60 MiB of a 64 MiB body took RSS to 1.3 GB.
  it('answers 503 FLT_OVERLOADED once unfinished requests hold the server-wide limit', async () => {
    const stalled: Socket[] = [];
    const answers: Promise<{ text: string; closed: boolean }>[] = [];
    // Each holds 60 KiB of a 64 KiB body; the limit is 200 KiB: the fourth passes it.
    for (let i = 0; i < 4; i++) {
      const s = await open();
      answers.push(untilClosed(s, 250));
      s.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n${'a'.repeat(60 * 1024)}`);
      stalled.push(s);
      await new Promise((r) => setTimeout(r, 20));
    }
    const got = await Promise.all(answers);
    assert.deepEqual(
      got.map((g) => /^HTTP\/1\.1 (\d+)/.exec(g.text)?.[1] ?? 'none'),
      ['none', 'none', 'none', '503'],
    );
    assert.match(got[3]!.text, /FLT_OVERLOADED[\s\S]*/);
    assert.match(got[3]!.text, /retry-after: 1/);
    for (const s of stalled) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.heldRequestBytes, 0, 'every byte given back');
  });

  it('a client leaving mid-body on the node:http path is no internal error', async () => {
    const s = await openFallback();
    s.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(errors, []);
  });
});
