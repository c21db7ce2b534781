import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORPUS } from '../helpers/http1-corpus.js';
import { compare, FAST_PATHS, mutate, seeded } from '../helpers/http1-differential.js';
import { oracle } from '../helpers/http1-oracle.js';
import { startOracleServer } from '../helpers/http1-oracle-server.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('HTTP/1.1 fast paths against llhttp', () => {
  // Where node:http's server adds a rule above llhttp: an HTTP/1.1 request without Host is its 400
  // (`requireHostHeader`, RFC 9112 §3.2; the fast paths serve it: see the report of issue 18), and
  // a CONNECT with no 'connect' listener closes the socket.
  const ABOVE_LLHTTP = ['GET without Host', 'HEAD, OPTIONS, PUT, DELETE, PATCH', 'CONNECT authority target'];

  it('the in-process oracle reads each corpus case as a real node:http server does', async () => {
    const server = await startOracleServer();
    try {
      for (const [name, text] of Object.entries(CORPUS)) {
        if (ABOVE_LLHTTP.includes(name)) continue;
        const buf = bytes(text);
        const o = oracle(buf);
        const r = await server.read(buf);
        const ours = o.messages.map((m) => `${m.method} ${m.url} ${m.bodyLength}`);
        const theirs = r.requests.map((m) => `${m.method} ${m.url} ${m.bodyLength}`);
        assert.deepEqual(theirs, ours, name);
        assert.equal(r.refusal !== undefined, o.error !== undefined, name);
      }
    } finally {
      await server.close();
    }
  });

  for (const fast of FAST_PATHS) {
    it(`${fast.name}: every corpus case as llhttp reads it, or stricter by a listed rule`, () => {
      const wrong: string[] = [];
      for (const [name, text] of Object.entries(CORPUS)) {
        const o = compare(bytes(text), fast);
        if (o.kind === 'disagree') wrong.push(`${name}: ${o.detail}`);
      }
      assert.deepEqual(wrong, []);
    });

    it(`${fast.name}: every corpus case split at every byte is incomplete until its head is in`, () => {
      for (const [name, text] of Object.entries(CORPUS)) {
        if (text.length > 2000) continue;
        const buf = bytes(text);
        const whole = fast.parse(buf);
        const blank = buf.indexOf('\r\n\r\n');
        for (let k = 1; k < buf.length; k++) {
          const part = fast.parse(buf.subarray(0, k));
          if (blank < 0 || k < blank + 4) assert.equal(part.kind, 'incomplete', `${name} at ${k}`);
          else assert.deepEqual(part, whole, `${name} at ${k}`);
        }
      }
    });
  }

  it('4,000 seeded mutations of the corpus: no disagreement with llhttp', () => {
    const seed = 18;
    const random = seeded(seed);
    const texts = Object.values(CORPUS).filter((t) => t.length < 2000);
    const wrong: string[] = [];
    for (let n = 0; n < 4000; n++) {
      const text = mutate(texts[Math.floor(random() * texts.length)]!, random);
      for (const fast of FAST_PATHS) {
        const o = compare(bytes(text), fast);
        if (o.kind === 'disagree') wrong.push(`${fast.name} ${JSON.stringify(text)}: ${o.detail}`);
      }
    }
    assert.deepEqual(wrong.slice(0, 5), [], `seed ${seed}`);
  });

  // Each of these was a disagreement the suite found: the fast path served what llhttp refuses,
  // or refused (unlisted) what llhttp reads.
  const found: [string, string, 'unsupported' | 'invalid'][] = [
    [
      'a lowercase or unknown method is handed off (llhttp: HPE_INVALID_METHOD)',
      'get / HTTP/1.1\r\nHost: a\r\n\r\n',
      'unsupported',
    ],
    [
      'Content-Length ending in NBSP is not read as a number',
      'POST / HTTP/1.1\r\nContent-Length: 2\xa0\r\n\r\nab',
      'invalid',
    ],
    [
      'Content-Length ending in HTAB is not read as a number',
      'POST / HTTP/1.1\r\nContent-Length: 2\t\r\n\r\nab',
      'invalid',
    ],
    [
      "a head over node:http's 16 KiB limit is handed off (llhttp: 431)",
      `GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`,
      'unsupported',
    ],
    [
      'a CR or LF before the request line is handed off (llhttp skips it)',
      '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
      'unsupported',
    ],
    [
      'an absolute-form target with an odd authority is handed off',
      'GET http://a\\b/ HTTP/1.1\r\nHost: a\r\n\r\n',
      'unsupported',
    ],
  ];
  for (const [finding, text, kind] of found) {
    it(finding, () => {
      for (const fast of FAST_PATHS) assert.equal(fast.parse(bytes(text)).kind, kind, fast.name);
    });
  }

  it('NBSP ending a Host value is kept, as llhttp keeps it', () => {
    const r = FAST_PATHS[0]!.parse(bytes('GET / HTTP/1.1\r\nHost: a\xa0\r\n\r\n'));
    assert.ok(r.kind === 'head' && r.headers.host === 'a\xa0');
  });

  it('a repeated X-Flotilla-Key is handed off by the gateway (node:http joins the two)', () => {
    const r = FAST_PATHS[1]!.parse(bytes('GET / HTTP/1.1\r\nX-Flotilla-Key: a\r\nX-Flotilla-Key: b\r\n\r\n'));
    assert.equal(r.kind, 'unsupported');
  });
});
