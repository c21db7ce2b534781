import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HTTP2_PREFACE, sniffPreface } from '../../src/server/index.js';

describe('sniffPreface: HTTP/2 prior knowledge or HTTP/1.1, from the first bytes', () => {
  const cases: readonly [string, Buffer, ReturnType<typeof sniffPreface>][] = [
    ['the whole preface', HTTP2_PREFACE, 'http2'],
    ['the preface and a SETTINGS frame', Buffer.concat([HTTP2_PREFACE, Buffer.alloc(9)]), 'http2'],
    ['an HTTP/1.1 request', Buffer.from('GET /v2/health/ready HTTP/1.1\r\n'), 'http1'],
    ['one byte of HTTP/1.1', Buffer.from('G'), 'http1'],
    ['part of the preface', Buffer.from('PRI * HTTP/2'), undefined],
    ['one byte of the preface', Buffer.from('P'), undefined],
    ['POST, which starts as the preface does', Buffer.from('POST /v2/models/m/infer HTTP/1.1'), 'http1'],
    ['PRI with HTTP/1.1', Buffer.from('PRI * HTTP/1.1\r\n'), 'http1'],
    ['nothing yet', Buffer.alloc(0), undefined],
  ];
  for (const [name, bytes, want] of cases) it(name, () => assert.equal(sniffPreface(bytes), want));
  it('is 24 bytes, as RFC 9113 §3.4 has it', () => assert.equal(HTTP2_PREFACE.length, 24));
});
