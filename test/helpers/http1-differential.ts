/**
 * The differential check of the two HTTP/1.1 fast paths (the server's `readRequestHead`, the
 * gateway's `parseRequestHead`) against llhttp, and a seeded mutator to fuzz them with. The rule:
 * where llhttp refuses, a fast path refuses or hands off; where llhttp accepts, a fast path hands
 * off, refuses under one of STRICT_RULES (RFC 9112 MUST-rejects llhttp lets through), or reads the
 * same method, target, header values and body boundary. Anything else is a disagreement.
 */

import { seededRandom } from '../../src/core/index.js';
import { parseRequestHead } from '../../src/gateway/http1/index.js';
import { originForm, readRequestHead } from '../../src/protocol/http1/index.js';
import { completedAfter, type OracleMessage, oracle } from './http1-oracle.js';

/** The fast paths' head limit (src/server/http and src/gateway/http1 fast-connection.ts). */
export const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Where a fast path may refuse (400) a request llhttp accepts: every rule, in one place, by the
 * refusal reason it gives.
 */
export const STRICT_RULES: Readonly<Record<string, RegExp>> = {
  /** RFC 9112 §3.2: a server MUST answer 400 to a request with more than one Host line. */
  'two-host-lines': /more than one Host/,
  /** A body over 10^15 bytes: refused outright rather than waited for (llhttp takes 2^64-1). */
  'content-length-over-15-digits': /^Content-Length "\d{16,}" is not a number$/,
  /** RFC 9112 §3: one SP between method and target; llhttp takes `GET  /` (an invalid request-line). */
  'request-line-single-sp': /request-target holds a space/,
};

/** A fast path's reading, normalised for comparison. */
export type FastVerdict =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'unsupported' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | {
      readonly kind: 'head';
      readonly method: string;
      readonly target: string;
      /** Header values the parser returns, by lower-case name. */
      readonly headers: Readonly<Record<string, string>>;
      readonly headEnd: number;
      readonly contentLength: number;
      readonly close: boolean;
    };

/** A fast path under test. */
export interface FastPath {
  readonly name: string;
  parse(buf: Buffer): FastVerdict;
  /** The names whose values it returns (undefined: all of them). */
  readonly names: readonly string[] | undefined;
}

/** Both fast paths. */
export const FAST_PATHS: readonly FastPath[] = [
  {
    name: 'server readRequestHead',
    names: undefined,
    parse(buf) {
      const r = readRequestHead(buf, MAX_HEAD_BYTES);
      if (r.kind !== 'head') return r;
      const { method, target, headers, headEnd, contentLength, close } = r.head;
      return { kind: 'head', method, target, headers, headEnd, contentLength, close };
    },
  },
  {
    name: 'gateway parseRequestHead',
    names: ['host', 'x-flotilla-key', 'x-flotilla-variant'],
    parse(buf) {
      const r = parseRequestHead(buf, MAX_HEAD_BYTES);
      if (r.kind !== 'head') return r;
      const { method, target, headEnd, contentLength, close, host, key, variant } = r.head;
      const headers: Record<string, string> = {};
      if (host !== undefined) headers.host = host;
      if (key !== undefined) headers['x-flotilla-key'] = key;
      if (variant !== undefined) headers['x-flotilla-variant'] = variant;
      return { kind: 'head', method, target, headers, headEnd, contentLength, close };
    },
  },
];

/** How one fast path fared on one input. */
export type Outcome =
  /** read: the same reading as llhttp's (the last request seen); handoff: left to node:http (or waiting for the rest of a head); refused: by both. */
  | { readonly kind: 'agree'; readonly how: 'read' | 'handoff' | 'refused' }
  | { readonly kind: 'strict'; readonly rule: string }
  | { readonly kind: 'disagree'; readonly detail: string };

function headersOf(m: OracleMessage, names: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < m.rawHeaders.length; i += 2) {
    const name = m.rawHeaders[i]!.toLowerCase();
    if (names && !names.includes(name)) continue;
    const seen = out[name];
    out[name] = seen === undefined ? m.rawHeaders[i + 1]! : `${seen}, ${m.rawHeaders[i + 1]!}`;
  }
  return out;
}

const same = (a: Record<string, string>, b: Readonly<Record<string, string>>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

const READ: Outcome = { kind: 'agree', how: 'read' };
const HANDOFF: Outcome = { kind: 'agree', how: 'handoff' };
const REFUSED: Outcome = { kind: 'agree', how: 'refused' };

/**
 * Compares one fast path with llhttp over every request in `buf`: the fast path reads from each
 * boundary it found until it stops (incomplete, hand-off, refusal).
 */
export function compare(buf: Buffer, fast: FastPath): Outcome {
  const verdict = oracle(buf);
  let offset = 0;
  for (let i = 0; ; i++) {
    const r = fast.parse(buf.subarray(offset));
    const m = verdict.messages[i];
    if (r.kind === 'unsupported') return i === 0 ? HANDOFF : READ;
    if (r.kind === 'incomplete') {
      // An HTTP/0.9 line (`GET /x\n`) llhttp reads; the fast path waits, then hands it off.
      if (m && !m.upgrade && m.version !== '0.9')
        return { kind: 'disagree', detail: `request ${i}: incomplete, llhttp read its head` };
      return i === 0 ? HANDOFF : READ;
    }
    if (r.kind === 'invalid') {
      if (!m) return REFUSED;
      const rule = Object.keys(STRICT_RULES).find((k) => STRICT_RULES[k]!.test(r.reason));
      if (rule) return { kind: 'strict', rule };
      return { kind: 'disagree', detail: `request ${i}: refused ("${r.reason}"), llhttp accepted` };
    }
    if (!m)
      return { kind: 'disagree', detail: `request ${i}: read a head, llhttp refused (${verdict.error})` };
    const target = originForm(m.url);
    if (r.method !== m.method || r.target !== target)
      return {
        kind: 'disagree',
        detail: `request ${i}: ${r.method} ${r.target}, llhttp ${m.method} ${target}`,
      };
    const theirs = headersOf(m, fast.names);
    if (!same(theirs, r.headers))
      return {
        kind: 'disagree',
        detail: `request ${i}: headers ${JSON.stringify(r.headers)}, llhttp ${JSON.stringify(theirs)}`,
      };
    const end = offset + r.headEnd + r.contentLength;
    if (end > buf.length) {
      if (m.complete)
        return { kind: 'disagree', detail: `request ${i}: body past the bytes, llhttp ended it` };
      return READ;
    }
    if (completedAfter(buf, end - 1) > i || completedAfter(buf, end) <= i)
      return { kind: 'disagree', detail: `request ${i}: ends at ${end}, llhttp elsewhere` };
    // Closing where llhttp would keep the connection (`Connection:  close`, two spaces) is safe.
    if (!r.close && !m.keepAlive)
      return { kind: 'disagree', detail: `request ${i}: kept alive, llhttp closes` };
    // After a request that closes the connection, the bytes that follow are not read.
    if (r.close || !m.keepAlive) return READ;
    offset = end;
    if (offset === buf.length) return READ;
  }
}

/** A seeded PRNG (mulberry32): the same seed gives the same cases. */
export function seeded(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.next();
}

const INSERTS = [
  '\r',
  '\n',
  '\0',
  ' ',
  ':',
  ',',
  '\t',
  '\r\n',
  '\x7f',
  '\xa0',
  '\v',
  '0',
  '\r\n ',
  'Host: x\r\n',
];

/** One to three random mutations of `input`: byte flips, inserts, line copies and drops, cuts. */
export function mutate(input: string, random: () => number): string {
  let s = input;
  const n = 1 + Math.floor(random() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(random() * (s.length + 1));
    const op = Math.floor(random() * 7);
    if (op === 0) s = s.slice(0, at) + String.fromCharCode(Math.floor(random() * 256)) + s.slice(at + 1);
    else if (op <= 2) s = s.slice(0, at) + INSERTS[Math.floor(random() * INSERTS.length)]! + s.slice(at);
    else if (op === 3) s = s.slice(0, at) + s.slice(at + 1);
    else if (op === 6) s = s.slice(0, at);
    else {
      const lines = s.split('\r\n');
      const i = Math.floor(random() * lines.length);
      if (op === 4) lines.splice(i, 0, lines[i]!);
      else lines.splice(i, 1);
      s = lines.join('\r\n');
    }
  }
  return s;
}
