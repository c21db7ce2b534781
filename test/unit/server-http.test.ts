import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NotFoundError, silentLogger } from '../../src/core/index.js';
import { type Handler, HttpServer, Router } from '../../src/server/index.js';

/** Reads from a socket until `count` whole responses (Content-Length framed) have arrived. */
async function responses(
  socket: Socket,
  count: number,
): Promise<{ status: number; head: string; body: string }[]> {
  let buf = Buffer.alloc(0);
  const out: { status: number; head: string; body: string }[] = [];
  for (;;) {
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = buf.toString('latin1', 0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) break;
      out.push({
        status: Number(head.slice(9, 12)),
        head,
        body: buf.toString('utf8', end + 4, end + 4 + length),
      });
      buf = buf.subarray(end + 4 + length);
    }
    if (out.length >= count) return out;
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
  }
}

describe('server HTTP front (fast path and node:http)', () => {
  let server: HttpServer;
  let port: number;
  let releaseSlow: (() => void) | undefined;
  const limitsAsked: string[] = [];
  let echoed = 0;
  const router = new Router<Handler>()
    .add('POST', '/echo/:name', async (req) => {
      echoed++;
      return {
        status: 200,
        headers: { 'x-name': req.params['name']!, 'x-q': req.query.get('q') ?? '' },
        body: Buffer.concat([Buffer.from(`${req.headers['x-tag'] ?? ''}:`), await req.body()]),
      };
    })
    .add('GET', '/slow', async () => {
      await new Promise<void>((r) => (releaseSlow = r));
      return { status: 200, body: 'slow done' };
    })
    .add('POST', '/parts', async (req) => {
      await req.body();
      return {
        status: 200,
        body: [Buffer.from('head|'), new Uint8Array(20_000).fill(97), Buffer.from('|tail')],
      };
    })
    .add('POST', '/align', async (req) => {
      const body = await req.body();
      return { status: 200, body: String((body.byteOffset + Number(req.headers['x-align'])) % 8) };
    })
    .add('GET', '/missing', () => {
      throw new NotFoundError('FLT_MODEL_NOT_FOUND', 'model "x" is not in the repository');
    });

  before(async () => {
    server = new HttpServer(
      {
        host: '127.0.0.1',
        port: 0,
        maxBodyBytes: 1024,
        bodyAlignment: (headers) =>
          headers['x-align'] === undefined ? undefined : Number(headers['x-align']),
        // A fake per-request limit: /echo/small takes 4 bytes at most, HEAD nothing is asked.
        bodyLimit: (head) => {
          limitsAsked.push(`${head.method} ${head.path}`);
          return head.path === '/echo/small' ? 4 : undefined;
        },
      },
      router,
      silentLogger,
    );
    port = (await server.listen()).port;
  });
  after(() => server.close());

  const open = async (): Promise<Socket> => {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return s;
  };

  it('answers pipelined requests on one connection in order, bodies split across writes', async () => {
    const s = await open();
    const req = (name: string, body: string): string =>
      `POST /echo/${name}?q=${name} HTTP/1.1\r\nHost: x\r\nX-Tag: t-${name}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const bytes = Buffer.from(req('a', 'hello') + req('b', '') + req('c', 'x'.repeat(300)));
    // One byte at a time for the first request, then the rest at once.
    for (let i = 0; i < 40; i++) {
      s.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    s.write(bytes.subarray(40));
    const got = await responses(s, 3);
    s.destroy();
    assert.deepEqual(
      got.map((r) => [r.status, r.body.slice(0, 12)]),
      [
        [200, 't-a:hello'],
        [200, 't-b:'],
        [200, `t-c:${'x'.repeat(8)}`],
      ],
    );
    assert.match(got[0]!.head, /x-name: a\r\nx-q: a\r\n/);
    assert.match(got[0]!.head, /\r\ndate: /);
  });

  it('joins a body read in pieces with the byte the server asks for on an 8-byte boundary', async () => {
    const s = await open();
    const answers: string[] = [];
    for (let at = 0; at < 8; at++) {
      const body = 'x'.repeat(64 + at);
      const whole = `POST /align HTTP/1.1\r\nHost: x\r\nX-Align: ${at}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      // Head and the body's start in one write, the rest in another: the body is joined here.
      const reply = responses(s, 1);
      s.write(whole.slice(0, whole.length - 30));
      await new Promise((r) => setTimeout(r, 10));
      s.write(whole.slice(whole.length - 30));
      answers.push((await reply)[0]!.body);
    }
    assert.deepEqual(answers, ['0', '0', '0', '0', '0', '0', '0', '0']);
    s.destroy();
  });

  it('hands chunked requests to node:http, which answers them on the same connection', async () => {
    const s = await open();
    s.write('POST /echo/z HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    s.write('POST /echo/y HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok');
    const got = await responses(s, 2);
    s.destroy();
    assert.deepEqual(
      got.map((r) => [r.status, r.body]),
      [
        [200, ':abc'],
        [200, ':ok'],
      ],
    );
  });

  it('writes a body given as pieces, on both paths', async () => {
    const s = await open();
    s.write('POST /parts HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    s.write('POST /parts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    const got = await responses(s, 2);
    s.destroy();
    for (const r of got) {
      assert.match(r.head, /content-length: 20010/i);
      assert.equal(r.body, `head|${'a'.repeat(20_000)}|tail`);
    }
  });

  it('answers errors with their status and code, and a body over the limit with 413 and a close', async () => {
    const s = await open();
    s.write('GET /missing HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
    const [missing, nowhere] = await responses(s, 2);
    assert.equal(missing!.status, 404);
    assert.deepEqual(JSON.parse(missing!.body), {
      error: 'model "x" is not in the repository',
      code: 'FLT_MODEL_NOT_FOUND',
    });
    assert.equal(nowhere!.status, 404);
    s.write(`POST /echo/big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'a'.repeat(5000)}`);
    const [big] = await responses(s, 1);
    assert.equal(big!.status, 413);
    assert.match(big!.body, /5000 bytes exceeds the limit of 1024 bytes/);
    await once(s, 'close');
  });

  it('bodyLimit: a Content-Length over the limit its head decides is answered 413 at once, unread', async () => {
    const s = await open();
    limitsAsked.length = 0;
    const before = echoed;
    // The head alone: the answer must come without the body ever being sent.
    s.write('POST /echo/small?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n');
    const [r] = await responses(s, 1);
    assert.equal(r!.status, 413);
    assert.equal(JSON.parse(r!.body).code, 'FLT_BODY_TOO_LARGE');
    assert.match(r!.body, /10 bytes exceeds the limit of 4 bytes/);
    assert.match(r!.head, /connection: close/);
    await once(s, 'close');
    assert.deepEqual(limitsAsked, ['POST /echo/small']);
    assert.equal(echoed, before, 'the handler never ran');
    // Within the limit, on the fast path; and a chunked body on node:http cut at the same limit.
    const t = await open();
    t.write('POST /echo/small HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd');
    assert.equal((await responses(t, 1))[0]!.body, ':abcd');
    t.write(
      'POST /echo/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n',
    );
    const [cut] = await responses(t, 1);
    assert.equal(cut!.status, 413);
    assert.match(cut!.body, /exceeds the limit of 4 bytes/);
    t.destroy();
    // A body over maxBodyBytes is refused from its Content-Length too, without being read.
    const u = await open();
    u.write('POST /echo/other HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n');
    const [big] = await responses(u, 1);
    assert.equal(big!.status, 413);
    assert.match(big!.body, /exceeds the limit of 1024 bytes/);
    await once(u, 'close');
  });

  it('answers HEAD without a body and survives a client that leaves mid-request', async () => {
    const gone = await open();
    gone.write('POST /echo/a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    gone.destroy();
    const s = await open();
    s.write('HEAD /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 20));
    releaseSlow!();
    let text = '';
    while (!text.includes('\r\n\r\n')) text += ((await once(s, 'data')) as [Buffer])[0].toString('latin1');
    s.destroy();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /content-length: 9\r\n/);
    assert.ok(text.endsWith('\r\n\r\n'), 'no body after the head');
  });

  it('drains on close: the request in flight is answered with connection: close, idle ones end', async () => {
    const idle = await open();
    const busy = await open();
    busy.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 20));
    const closed = server.close();
    await once(idle, 'close');
    releaseSlow!();
    const [r] = await responses(busy, 1);
    assert.equal(r!.body, 'slow done');
    assert.match(r!.head, /connection: close/);
    await closed;
    await assert.rejects(open(), /ECONNREFUSED/);
  });
});
