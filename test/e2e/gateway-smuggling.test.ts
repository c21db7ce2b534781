import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type GatewayProcess, startGateway, writeServiceFile } from '../fixtures/services/gateway-helpers.js';

/**
 * A backend that is not Flotilla: a plain `net` server that records the raw bytes it receives and
 * answers every blank-line-terminated head it sees, as a naive HTTP/1.1 server (Python's
 * http.server, issue 18) would split them — a bare LF ends a line for it.
 */
async function naiveBackend(): Promise<{ server: Server; address: string; raw: () => string }> {
  let raw = '';
  const server = createServer((socket) => {
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      raw += d;
      pending += d;
      for (let m = /\r?\n\r?\n/.exec(pending); m; m = /\r?\n\r?\n/.exec(pending)) {
        const line = pending.slice(0, pending.search(/\r?\n/));
        pending = pending.slice(m.index + m[0].length);
        const body = line.includes('/smuggled') ? 'SMUGGLED' : 'ok';
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, address: `127.0.0.1:${(server.address() as { port: number }).port}`, raw: () => raw };
}

/** Sends raw bytes on a new connection; everything received until the gateway closes it. */
async function send(url: string, bytes: string): Promise<string> {
  const s = connect(Number(new URL(url).port), '127.0.0.1');
  s.on('error', () => undefined);
  await once(s, 'connect');
  let text = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => (text += d));
  s.write(bytes);
  await Promise.race([once(s, 'close'), new Promise((r) => setTimeout(r, 5_000))]);
  s.destroy();
  return text;
}

// Issue 18: with a static endpoint that is not Flotilla, a bare LF inside a header value made a
// victim's next request get the attacker's smuggled answer; two Host lines were routed by one.
describe('flotilla gateway: no request smuggling to a non-Flotilla backend', () => {
  let backend: Awaited<ReturnType<typeof naiveBackend>>;
  let gw: GatewayProcess;
  before(async () => {
    backend = await naiveBackend();
    gw = await startGateway(
      writeServiceFile(
        `services: { m: { healthCheck: false, variants: [{ tag: v1, endpoints: "${backend.address}" }] } }`,
      ),
    );
  });
  after(async () => {
    await gw.stop();
    await new Promise((r) => backend.server.close(r));
  });

  const attacks: [string, string][] = [
    [
      'a bare LF inside a header value',
      'GET /v2/models/m HTTP/1.1\r\nHost: x\r\nX-A: a\n\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    ],
    ['two Host headers', 'GET /v2/models/m HTTP/1.1\r\nHost: x\r\nHost: internal.example\r\n\r\n'],
    [
      'two Host headers after a hand-over to node:http',
      'POST /v2/models/m HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' +
        'GET /smuggled HTTP/1.1\r\nHost: x\r\nHost: internal.example\r\n\r\n',
    ],
    ['an empty header name', 'GET /v2/models/m HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n'],
  ];
  for (const [what, bytes] of attacks) {
    it(`${what}: the client gets 400, the backend never sees a smuggled request`, async () => {
      const before = backend.raw().length;
      const got = await send(gw.url, bytes);
      assert.match(got, /HTTP\/1\.1 400 Bad Request\r\n[\s\S]*FLT_INVALID_HTTP/);
      assert.doesNotMatch(got, /SMUGGLED/);
      const seen = backend.raw().slice(before);
      assert.doesNotMatch(seen, /smuggled|internal\.example|\n: x/);
      // The victim, next on a kept-alive upstream connection, gets its own answer.
      const victim = await send(gw.url, 'GET /v2/models/m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(victim, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
    });
  }
});
