/**
 * The head of an HTTP/1.1 request, read straight from the socket's bytes for the fast path: only
 * what routing and framing need is turned into strings; header lines are forwarded as bytes.
 * Anything unusual (other versions, absolute targets, chunked bodies, Expect, Upgrade) is
 * `unsupported` and goes to the complete node:http path instead.
 */

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
  const lineEnd = buf.indexOf(13);
  const line = buf.toString('latin1', 0, lineEnd);
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1 + 1 || line.slice(sp2 + 1) !== 'HTTP/1.1' || line.charCodeAt(sp1 + 1) !== 47) {
    return { kind: 'unsupported' };
  }
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  if (target.includes(' ')) return { kind: 'unsupported' };
  let host: string | undefined;
  let contentLength = 0;
  let sawLength = false;
  let close = false;
  let variant: string | undefined;
  let key: string | undefined;
  let drop: number[] | undefined;
  let at = lineEnd + 2;
  while (at < blank + 2) {
    const end = buf.indexOf(13, at);
    const colon = buf.indexOf(58, at);
    const first = buf[at];
    // A folded line or a line without a colon: let the strict parser reject it.
    if (colon < 0 || colon > end || first === 32 || first === 9) return { kind: 'unsupported' };
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
      const value = (): string => buf.toString('latin1', colon + 1, end).trim();
      switch (name) {
        case 'host':
          host = value();
          break;
        case 'content-length': {
          const v = value();
          if (!/^\d{1,15}$/.test(v) || (sawLength && Number(v) !== contentLength))
            return { kind: 'unsupported' };
          contentLength = Number(v);
          sawLength = true;
          break;
        }
        case 'transfer-encoding':
        case 'expect':
        case 'upgrade':
          return { kind: 'unsupported' };
        case 'x-flotilla-key':
          key = value();
          break;
        case 'x-flotilla-variant':
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
  return {
    kind: 'head',
    head: {
      method,
      target,
      headersStart: lineEnd + 2,
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
