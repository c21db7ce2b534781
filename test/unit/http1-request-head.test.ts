import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRequestHead, responseHead } from '../../src/protocol/http1/index.js';

const head = (text: string) => readRequestHead(Buffer.from(text, 'latin1'), 64 * 1024);

describe('HTTP/1.1 request head', () => {
  it('reads method, target, headers by lower-case name and the body offset', () => {
    const text =
      'POST /v2/models/m/infer?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nX-A: 1\r\nx-a: 2\r\n\r\nabcGET';
    const r = head(text);
    assert.equal(r.kind, 'head');
    if (r.kind !== 'head') return;
    assert.equal(r.head.method, 'POST');
    assert.equal(r.head.target, '/v2/models/m/infer?x=1');
    assert.equal(r.head.contentLength, 3);
    assert.equal(r.head.close, false);
    assert.deepEqual(r.head.headers, { host: 'a', 'content-length': '3', 'x-a': '1, 2' });
    assert.equal(text.slice(r.head.headEnd, r.head.headEnd + 3), 'abc');
  });

  it('waits for the blank line, and gives up on a head over the limit', () => {
    assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\n').kind, 'incomplete');
    assert.equal(
      readRequestHead(Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}`), 50).kind,
      'unsupported',
    );
  });

  it('sees Connection: close among other tokens', () => {
    const r = head('GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n');
    assert.ok(r.kind === 'head' && r.head.close);
  });

  const unsupported: [string, string][] = [
    ['HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n'],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\n\r\n'],
    ['chunked bodies', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['Expect', 'POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n'],
    ['Upgrade', 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'],
  ];
  for (const [what, text] of unsupported) {
    it(`leaves ${what} to node:http`, () => assert.equal(head(text).kind, 'unsupported'));
  }

  // RFC 9112 says to refuse these; issue 18 found the server's fast path accepting a bare LF or
  // NUL inside a header value, and the gateway forwarding a bare LF, an empty name and two Hosts.
  const invalid: [string, string, RegExp][] = [
    [
      'a bare LF inside a header value',
      'GET / HTTP/1.1\r\nHost: a\r\nX: a\nGET /smuggled HTTP/1.1\r\n\r\n',
      /control character/,
    ],
    ['a NUL inside a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n', /control character/],
    ['a DEL inside a header value', 'GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n', /control character/],
    ['a bare CR ending a header line', 'GET / HTTP/1.1\r\nX: a\rY: b\r\n\r\n', /bare CR/],
    ['a bare CR ending the request line', 'GET / HTTP/1.1\rX: a\r\n\r\n', /bare CR/],
    ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', /more than one Host/],
    ['two equal Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', /more than one Host/],
    ['an empty header name', 'GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n', /empty name/],
    ['a space before the colon', 'GET / HTTP/1.1\r\nX : a\r\n\r\n', /token/],
    ['a line without a colon', 'GET / HTTP/1.1\r\nnocolon\r\n\r\n', /no colon/],
    ['a folded header line', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n', /folded/],
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      /Transfer-Encoding/,
    ],
    [
      'two different Content-Lengths',
      'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      /Content-Length/,
    ],
    [
      'two equal Content-Lengths (llhttp refuses them too)',
      'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
      /Content-Length/,
    ],
    ['a Content-Length that is no number', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', /not a number/],
    ['a control character in the target', 'GET /a\x01b HTTP/1.1\r\n\r\n', /request-target/],
  ];
  for (const [what, text, reason] of invalid) {
    it(`refuses ${what} (400)`, () => {
      const r = head(text);
      assert.equal(r.kind, 'invalid');
      if (r.kind === 'invalid') assert.match(r.reason, reason);
    });
  }

  it('takes a horizontal tab and obs-text in a value, as llhttp does', () => {
    const r = head('GET / HTTP/1.1\r\nX: a\tb caf\xe9\r\n\r\n');
    assert.ok(r.kind === 'head');
    assert.equal(r.head.headers['x'], 'a\tb caf\xe9');
  });

  it('takes an absolute-form target as its path and query (RFC 9112 §3.2.2: servers MUST accept it)', () => {
    for (const [target, origin] of [
      ['http://h:8000/v2/models/m/infer?x=1', '/v2/models/m/infer?x=1'],
      ['HTTPS://h/v2', '/v2'],
      ['http://h', '/'],
      ['http://h?q', '/?q'],
    ] as const) {
      const r = head(`POST ${target} HTTP/1.1\r\nHost: h\r\n\r\n`);
      assert.ok(r.kind === 'head', target);
      assert.equal(r.head.target, origin);
    }
  });

  it('writes a response head with length, date and the connection decision', () => {
    const now = Date.UTC(2026, 10, 22, 1, 2, 3);
    assert.equal(
      responseHead(200, { 'content-type': 'application/json' }, 12, false, now),
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\ndate: Sun, 22 Nov 2026 01:02:03 GMT\r\nkeep-alive: timeout=65\r\n\r\n',
    );
    assert.match(
      responseHead(503, undefined, 0, true, now),
      /^HTTP\/1\.1 503 Service Unavailable\r\n.*connection: close\r\n\r\n$/s,
    );
  });
});
