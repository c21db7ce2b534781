/**
 * The head of an HTTP/1.1 request, read straight from the socket's bytes for the fast path: only
 * what routing and framing need is turned into strings; header lines are forwarded as bytes, so
 * every line is checked here against RFC 9112 first (protocol/http1's field rules, the same as the
 * server's): a head a backend could read differently from the gateway is `invalid` and answered
 * 400, never forwarded. Merely unusual heads (other versions, absolute targets, chunked bodies,
 * Expect, Upgrade) are `unsupported` and go to the complete node:http path instead.
 */

import { maxHeaderSize } from 'node:http';
import {
  contentLengthValue,
  FIELD_PROBLEMS,
  fieldLine,
  fieldValue,
  invalidHead,
  readRequestLine,
} from '../../protocol/http1/index.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** A parsed request head; offsets index the buffer it was read from. */
export interface RequestHead {
  readonly method: string;
  /** The request-target (origin-form: path and query). */
  readonly target: string;
  /** Offset just after the request line's CRLF: header lines start here. */
  readonly headersStart: number;
  /** Offset just after the blank line ending the head. */
  readonly headEnd: number;
  readonly host: string | undefined;
  /** Body length in bytes (0 without Content-Length). */
  readonly contentLength: number;
  readonly close: boolean;
  readonly variant: string | undefined;
  readonly key: string | undefined;
  /** [start, end) byte ranges of hop-by-hop header lines, to leave out upstream (empty: none). */
  readonly drop: readonly number[];
}

/** What the bytes so far hold. */
export type RequestHeadResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'unsupported' }
  /** Refused by RFC 9112: answer 400 with `reason` and close. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'head'; readonly head: RequestHead };

/** True for a header name the fast path must not forward (RFC 9110 §7.6.1), by length first. */
export function isHopByHopName(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === 'te';
    case 7:
      return name === 'trailer';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 16:
      return name === 'proxy-connection';
    default:
      return false;
  }
}

/**
 * Reads a request head from `buf` (which may hold more: the body, the next request). Bytes that
 * do not make a plain HTTP/1.1 origin-form request are `unsupported`: node:http answers them.
 */
export function parseRequestHead(buf: Buffer, maxHeadBytes: number): RequestHeadResult {
  const blank = buf.indexOf(CRLFCRLF);
  if (blank < 0) return buf.length > maxHeadBytes ? { kind: 'unsupported' } : { kind: 'incomplete' };
  const headEnd = blank + 4;
  // Over node:http's own limit (16 KiB by default) llhttp answers 431: so does the hand-off.
  if (headEnd > Math.min(maxHeadBytes, maxHeaderSize)) return { kind: 'unsupported' };
  const line = readRequestLine(buf);
  if (line.kind !== 'line') return line;
  // The target is forwarded as it came: an absolute-form one goes the node:http way, re-written.
  if (line.absolute) return { kind: 'unsupported' };
  let host: string | undefined;
  let contentLength = 0;
  let sawLength = false;
  let chunked = false;
  let unusual = false;
  let close = false;
  let variant: string | undefined;
  let key: string | undefined;
  let drop: number[] | undefined;
  let at = line.end;
  while (at < blank + 2) {
    const end = buf.indexOf(13, at);
    const colon = fieldLine(buf, at, end);
    if (colon < 0) return invalidHead(FIELD_PROBLEMS[-colon]!);
    const nameLength = colon - at;
    // Only names the fast path cares about are turned into strings.
    if (
      nameLength === 4 ||
      nameLength === 14 ||
      nameLength === 17 ||
      nameLength === 10 ||
      nameLength === 2 ||
      nameLength === 6 ||
      nameLength === 7 ||
      nameLength === 16 ||
      nameLength === 18
    ) {
      const name = buf.toString('latin1', at, colon).toLowerCase();
      const value = (): string => fieldValue(buf, colon + 1, end);
      switch (name) {
        case 'host':
          if (host !== undefined) return invalidHead('more than one Host line (RFC 9112 §3.2)');
          host = value();
          break;
        case 'content-length': {
          if (sawLength) return invalidHead('more than one Content-Length (RFC 9112 §6.3)');
          contentLength = contentLengthValue(buf, colon + 1, end);
          if (contentLength < 0) return invalidHead(`Content-Length "${value()}" is not a number`);
          sawLength = true;
          break;
        }
        case 'transfer-encoding':
          chunked = true;
          break;
        case 'expect':
        case 'upgrade':
          unusual = true;
          break;
        // Twice: node:http joins the two (`k1, k2`); the fast path once routed by the last alone.
        case 'x-flotilla-key':
          if (key !== undefined) unusual = true;
          key = value();
          break;
        case 'x-flotilla-variant':
          if (variant !== undefined) unusual = true;
          variant = value();
          break;
        default:
          if (isHopByHopName(name)) {
            if (name === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(value())) close = true;
            drop ??= [];
            drop.push(at, end + 2);
          }
      }
    }
    at = end + 2;
  }
  if (chunked && sawLength) return invalidHead('Content-Length with Transfer-Encoding (RFC 9112 §6.3)');
  if (chunked || unusual) return { kind: 'unsupported' };
  return {
    kind: 'head',
    head: {
      method: line.method,
      target: line.target,
      headersStart: line.end,
      headEnd,
      host,
      contentLength,
      close,
      variant,
      key,
      drop: drop ?? [],
    },
  };
}
