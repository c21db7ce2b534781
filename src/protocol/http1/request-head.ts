/**
 * The head of a plain HTTP/1.1 request read straight from a socket's bytes, for servers that answer
 * small, complete requests without node:http's streams. What RFC 9112 says a server must refuse
 * (a bare CR or LF, a NUL or other control character in a value, whitespace before a colon, an
 * empty name, two Host lines, Content-Length with Transfer-Encoding, repeated Content-Lengths, a
 * folded line) is `invalid`: answered 400 here, never handed on. Anything merely unusual (other
 * versions, chunked bodies, Expect, Upgrade, `*` or authority targets, a method llhttp does not
 * know, a head over node:http's header limit) is `unsupported`: the caller hands the connection to
 * node:http, whose strict parser answers it. test/unit/http1-differential.test.ts holds both fast
 * paths to llhttp's reading of the same bytes.
 */

import { maxHeaderSize } from 'node:http';
import {
  contentLengthValue,
  FIELD_PROBLEMS,
  fieldLine,
  fieldValue,
  isTarget,
  isToken,
  KNOWN_METHODS,
  originForm,
} from './field-syntax.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CR = 13;
const LF = 10;

/** A parsed request head; offsets index the buffer it was read from. */
export interface Http1RequestHead {
  readonly method: string;
  /** The request-target in origin-form (path and query; an absolute-form target gives its path). */
  readonly target: string;
  /** Offset just after the blank line ending the head: the body starts here. */
  readonly headEnd: number;
  /** Header values by lower-case name; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body length in bytes (0 without Content-Length). */
  readonly contentLength: number;
  /** The client asked to close the connection after this request. */
  readonly close: boolean;
}

export type Http1HeadResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'unsupported' }
  /** Refused by RFC 9112: answer 400 with `reason` and close. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'head'; readonly head: Http1RequestHead };

const INCOMPLETE: Http1HeadResult = { kind: 'incomplete' };
const UNSUPPORTED: Http1HeadResult = { kind: 'unsupported' };

/** A head RFC 9112 says to refuse, with the reason the 400 gives. */
export function invalidHead(reason: string): { readonly kind: 'invalid'; readonly reason: string } {
  return { kind: 'invalid', reason };
}

/** The request line's parts, or why it is not one the fast path takes. */
export type RequestLine =
  | {
      readonly kind: 'line';
      readonly method: string;
      /** In origin-form. */
      readonly target: string;
      /** The target was sent in absolute-form (`http://host/path`). */
      readonly absolute: boolean;
      /** Offset just after the line's CRLF: header lines start here. */
      readonly end: number;
    }
  | { readonly kind: 'unsupported' }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Reads the request line at the start of `buf` (whose head is complete). Origin-form and
 * absolute-form targets are taken (RFC 9112 §3.2.2: a server MUST accept absolute-form); `*`,
 * authority-form and versions other than HTTP/1.1 are `unsupported`.
 */
export function readRequestLine(buf: Buffer): RequestLine {
  // llhttp skips CRs and LFs before a request line (RFC 9112 §2.2): node:http reads those.
  if (buf[0] === CR || buf[0] === LF) return { kind: 'unsupported' };
  const lineEnd = buf.indexOf(CR);
  if (buf[lineEnd + 1] !== LF) return invalidHead('the request line ends in a bare CR');
  const sp1 = buf.indexOf(32);
  const sp2 = buf.lastIndexOf(32, lineEnd);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || sp1 > lineEnd) return { kind: 'unsupported' };
  if (buf.toString('latin1', sp2 + 1, lineEnd) !== 'HTTP/1.1') return { kind: 'unsupported' };
  if (!isToken(buf, 0, sp1)) return invalidHead('the method is not a token');
  const method = buf.toString('latin1', 0, sp1);
  if (!KNOWN_METHODS.has(method)) return { kind: 'unsupported' };
  if (!isTarget(buf, sp1 + 1, sp2))
    return invalidHead('the request-target holds a space or control character');
  const raw = buf.toString('latin1', sp1 + 1, sp2);
  const first = raw.charCodeAt(0);
  let target = raw;
  if (first !== 47) {
    // Only a plain host[:port] authority: llhttp refuses `http://a\\b/` and the like, node:http answers.
    if (!PLAIN_AUTHORITY.test(raw)) return { kind: 'unsupported' };
    target = originForm(raw);
    if (target === raw) return { kind: 'unsupported' };
  }
  return {
    kind: 'line',
    method,
    target,
    absolute: first !== 47,
    end: lineEnd + 2,
  };
}

/** Reads a request head from the start of `buf` (which may hold more: the body, the next request). */
export function readRequestHead(buf: Buffer, maxHeadBytes: number): Http1HeadResult {
  const blank = buf.indexOf(CRLFCRLF);
  if (blank < 0) return buf.length > maxHeadBytes ? UNSUPPORTED : INCOMPLETE;
  // Over node:http's own limit (16 KiB by default) llhttp answers 431: so does the hand-off.
  if (blank + 4 > Math.min(maxHeadBytes, maxHeaderSize)) return UNSUPPORTED;
  const line = readRequestLine(buf);
  if (line.kind !== 'line') return line;
  const headers: Record<string, string> = {};
  let contentLength = 0;
  let at = line.end;
  while (at < blank + 2) {
    const end = buf.indexOf(CR, at);
    const colon = fieldLine(buf, at, end);
    if (colon < 0) return invalidHead(FIELD_PROBLEMS[-colon]!);
    const name = buf.toString('latin1', at, colon).toLowerCase();
    const value = fieldValue(buf, colon + 1, end);
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (name === 'host') return invalidHead('more than one Host line (RFC 9112 §3.2)');
    else if (name === 'content-length') return invalidHead('more than one Content-Length (RFC 9112 §6.3)');
    else headers[name] = `${seen}, ${value}`;
    if (name === 'content-length') {
      contentLength = contentLengthValue(buf, colon + 1, end);
      if (contentLength < 0) return invalidHead(`Content-Length "${value}" is not a number`);
    }
    at = end + 2;
  }
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined) {
    if (length !== undefined) return invalidHead('Content-Length with Transfer-Encoding (RFC 9112 §6.3)');
    return UNSUPPORTED;
  }
  if (headers['expect'] !== undefined || headers['upgrade'] !== undefined) return UNSUPPORTED;
  const connection = headers['connection'];
  return {
    kind: 'head',
    head: {
      method: line.method,
      target: line.target,
      headEnd: blank + 4,
      headers,
      contentLength,
      close: connection !== undefined && CLOSE.test(connection),
    },
  };
}

const PLAIN_AUTHORITY = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?([/?]|$)/i;
const CLOSE = /(^|,)\s*close\s*(,|$)/i;
