import { isHopByHopName } from './request-head.js';

/**
 * The head of a replica's HTTP/1.1 answer, read from the upstream socket's bytes: the status, how
 * the body is framed, whether the connection may be reused, and which header lines are
 * hop-by-hop. The body itself is forwarded as it arrives, never parsed.
 */

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** How the body after the head ends. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** A parsed response head; offsets index the buffer it was read from. */
export interface ResponseHead {
  readonly status: number;
  /** Offset just after the status line's CRLF. */
  readonly headersStart: number;
  readonly headEnd: number;
  readonly framing: BodyFraming;
  /** Body bytes with `length` framing. */
  readonly length: number;
  /** The replica keeps the connection open after this answer. */
  readonly keepAlive: boolean;
  /** [start, end) ranges of hop-by-hop header lines, left out towards the client. */
  readonly drop: readonly number[];
}

/** What the bytes so far hold; an interim (1xx) answer reports where it ends, to be skipped. */
export type ResponseHeadResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'interim'; readonly headEnd: number }
  | { readonly kind: 'head'; readonly head: ResponseHead };

/** Reads a response head for a request of `method` (HEAD answers have no body). */
export function parseResponseHead(buf: Buffer, method: string, maxHeadBytes = 65_536): ResponseHeadResult {
  const blank = buf.indexOf(CRLFCRLF);
  if (blank < 0)
    return buf.length > maxHeadBytes
      ? { kind: 'invalid', reason: 'response head too large' }
      : { kind: 'incomplete' };
  const headEnd = blank + 4;
  const lineEnd = buf.indexOf(13);
  // "HTTP/1.x SSS reason"
  if (buf.toString('latin1', 0, 7) !== 'HTTP/1.' || buf[8] !== 32)
    return { kind: 'invalid', reason: 'not an HTTP/1.x status line' };
  const http10 = buf[7] === 48;
  const status = (buf[9]! - 48) * 100 + (buf[10]! - 48) * 10 + (buf[11]! - 48);
  if (!(status >= 100 && status <= 999)) return { kind: 'invalid', reason: 'bad status code' };
  if (status >= 100 && status < 200) return { kind: 'interim', headEnd };
  let length = -1;
  let chunked = false;
  let otherEncoding = false;
  let close = http10;
  let drop: number[] | undefined;
  let at = lineEnd + 2;
  while (at < blank + 2) {
    const end = buf.indexOf(13, at);
    const colon = buf.indexOf(58, at);
    if (colon < 0 || colon > end) return { kind: 'invalid', reason: 'header line without a colon' };
    const nameLength = colon - at;
    if (
      nameLength === 14 ||
      nameLength === 17 ||
      nameLength === 10 ||
      nameLength === 2 ||
      nameLength === 7 ||
      nameLength === 16
    ) {
      const name = buf.toString('latin1', at, colon).toLowerCase();
      const value = buf
        .toString('latin1', colon + 1, end)
        .trim()
        .toLowerCase();
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (length >= 0 && Number(value) !== length))
          return { kind: 'invalid', reason: 'bad content-length' };
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        if (/(^|,)\s*chunked\s*$/.test(value)) chunked = true;
        else otherEncoding = true;
      } else if (isHopByHopName(name)) {
        if (name === 'connection') {
          if (/(^|,)\s*close\s*(,|$)/.test(value)) close = true;
          else if (http10 && /(^|,)\s*keep-alive\s*(,|$)/.test(value)) close = false;
        }
        drop ??= [];
        drop.push(at, end + 2);
      }
    }
    at = end + 2;
  }
  let framing: BodyFraming;
  if (method === 'HEAD' || status === 204 || status === 304) framing = 'none';
  else if (chunked) framing = 'chunked';
  else if (otherEncoding) framing = 'close';
  else if (length >= 0) framing = length === 0 ? 'none' : 'length';
  else framing = 'close';
  return {
    kind: 'head',
    head: {
      status,
      headersStart: lineEnd + 2,
      headEnd,
      framing,
      length: Math.max(0, length),
      keepAlive: !close && framing !== 'close',
      drop: drop ?? [],
    },
  };
}

/**
 * Finds where a chunked body ends, byte by byte across reads (chunk sizes, extensions, data,
 * trailers), without decoding it: the bytes go to the client as they came.
 */
export class ChunkedScanner {
  private state:
    | 'size'
    | 'ext'
    | 'sizeLf'
    | 'data'
    | 'dataCr'
    | 'dataLf'
    | 'trailerStart'
    | 'trailer'
    | 'finalLf' = 'size';
  private size = 0;
  private remaining = 0;
  private last = false;

  /** Scans `buf` from `start`; returns the offset just after the body's end, or -1 for more. */
  scan(buf: Buffer, start: number): number {
    let i = start;
    while (i < buf.length) {
      const c = buf[i]!;
      switch (this.state) {
        case 'size': {
          const d =
            c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0) {
            this.size = this.size * 16 + d;
            if (this.size > Number.MAX_SAFE_INTEGER / 16) throw new Error('chunk size too large');
          } else if (c === 13) this.state = 'sizeLf';
          else if (c === 59 || c === 32 || c === 9) this.state = 'ext';
          else throw new Error('bad chunk size');
          break;
        }
        case 'ext':
          if (c === 13) this.state = 'sizeLf';
          break;
        case 'sizeLf':
          if (c !== 10) throw new Error('bad chunk size line');
          if (this.size === 0) {
            this.last = true;
            this.state = 'trailerStart';
          } else {
            this.remaining = this.size;
            this.state = 'data';
          }
          this.size = 0;
          break;
        case 'data': {
          const take = Math.min(this.remaining, buf.length - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = 'dataCr';
          continue;
        }
        case 'dataCr':
          if (c !== 13) throw new Error('chunk data longer than its size');
          this.state = 'dataLf';
          break;
        case 'dataLf':
          if (c !== 10) throw new Error('bad chunk end');
          this.state = 'size';
          break;
        case 'trailerStart':
          this.state = c === 13 ? 'finalLf' : 'trailer';
          break;
        case 'trailer':
          if (c === 10) this.state = 'trailerStart';
          break;
        case 'finalLf':
          if (c !== 10 || !this.last) throw new Error('bad chunked body end');
          return i + 1;
      }
      i++;
    }
    return -1;
  }
}
