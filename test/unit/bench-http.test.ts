import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeHttpRequest,
  HttpProtocolError,
  type HttpReply,
  ResponseParser,
} from '../../src/bench/index.js';

const capture = ['x-flotilla-variant', 'x-flotilla-replica', 'inference-header-content-length'];

function parse(chunks: readonly string[], keepBody = true): HttpReply[] {
  const replies: HttpReply[] = [];
  const p = new ResponseParser((r) => replies.push(r), { keepBody, capture });
  for (const c of chunks) p.execute(Buffer.from(c, 'latin1'));
  return replies;
}

const ok = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;

describe('encodeHttpRequest', () => {
  it('writes a keep-alive request with host, content-length and the extra headers', () => {
    const bytes = encodeHttpRequest({
      method: 'POST',
      path: '/v2/models/m/infer',
      host: '127.0.0.1:8000',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
    assert.equal(
      bytes.toString(),
      'POST /v2/models/m/infer HTTP/1.1\r\nhost: 127.0.0.1:8000\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}',
    );
  });

  it('lets a Host header replace the URL host (gateways route by Host)', () => {
    const text = encodeHttpRequest({
      method: 'GET',
      path: '/',
      host: 'a:1',
      headers: { Host: 'mnist.example.com' },
    }).toString();
    assert.match(text, /^GET \/ HTTP\/1\.1\r\nhost: mnist\.example\.com\r\n\r\n$/);
  });

  it('refuses header values with line breaks', () => {
    assert.throws(
      () => encodeHttpRequest({ method: 'GET', path: '/', host: 'a', headers: { x: 'a\r\nb: c' } }),
      RangeError,
    );
  });
});

describe('ResponseParser', () => {
  it('reads status, captured headers (any case) and the body', () => {
    const [r] = parse([ok('{"x":1}', 'X-Flotilla-Variant: canary\r\nx-flotilla-replica: r2\r\n')]);
    assert.equal(r!.status, 200);
    assert.deepEqual(r!.headers, ['canary', 'r2', undefined]);
    assert.equal(r!.body!.toString(), '{"x":1}');
    assert.equal(r!.close, false);
  });

  it('reads pipelined answers from one chunk, and answers split at every byte', () => {
    const two = ok('{"a":1}') + ok('{"b":22}', 'x-flotilla-variant: v\r\n');
    assert.deepEqual(
      parse([two]).map((r) => r.body!.toString()),
      ['{"a":1}', '{"b":22}'],
    );
    const bytes = [...two];
    const replies = parse(bytes);
    assert.deepEqual(
      replies.map((r) => [r.body!.toString(), r.headers[0]]),
      [
        ['{"a":1}', undefined],
        ['{"b":22}', 'v'],
      ],
    );
  });

  it('reads chunked bodies with trailers', () => {
    const chunked =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nx-trailer: 1\r\n\r\n';
    const [r] = parse([chunked + ok('z')]);
    assert.equal(r!.body!.toString(), 'Wikipedia');
    assert.equal(parse([chunked + ok('z')]).length, 2);
    assert.equal(parse([...chunked]).map((x) => x.body!.toString())[0], 'Wikipedia');
  });

  it('keeps error bodies even when bodies are not kept, and drops 200 bodies', () => {
    const replies = parse([ok('{"big":1}'), 'HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy'], false);
    assert.equal(replies[0]!.body, undefined);
    assert.equal(replies[1]!.status, 503);
    assert.equal(replies[1]!.body!.toString(), 'busy');
  });

  it('handles empty bodies, 204, connection: close and HTTP/1.0', () => {
    const replies = parse([
      'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx',
      'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\ny',
    ]);
    assert.deepEqual(
      replies.map((r) => [r.status, r.close]),
      [
        [200, false],
        [204, false],
        [200, true],
        [200, true],
      ],
    );
  });

  it('reads a body without length until the connection ends', () => {
    const replies: HttpReply[] = [];
    const p = new ResponseParser((r) => replies.push(r), { keepBody: true, capture });
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc'));
    p.execute(Buffer.from('def'));
    assert.equal(replies.length, 0);
    p.finish();
    assert.equal(replies[0]!.body!.toString(), 'abcdef');
  });

  it('refuses what is not HTTP', () => {
    assert.throws(() => parse(['SSH-2.0-OpenSSH\r\n\r\n']), HttpProtocolError);
  });
});
