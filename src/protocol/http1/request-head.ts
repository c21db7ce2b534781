/**
 * The head of a plain HTTP/1.1 request read straight from a socket's bytes, for servers that answer
 * small, complete requests without node:http's streams. Anything unusual (other versions, absolute
 * targets, chunked bodies, Expect, Upgrade, folded lines) is `unsupported`: the caller hands the
 * connection to node:http, whose strict parser answers it.
 */

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CR = 13;
const COLON = 58;

/** A parsed request head; offsets index the buffer it was read from. */
export interface Http1RequestHead {
  readonly method: string;
  /** The request-target (origin-form: path and query). */
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
  | { readonly kind: 'head'; readonly head: Http1RequestHead };

const INCOMPLETE: Http1HeadResult = { kind: 'incomplete' };
const UNSUPPORTED: Http1HeadResult = { kind: 'unsupported' };

/** Reads a request head from the start of `buf` (which may hold more: the body, the next request). */
export function readRequestHead(buf: Buffer, maxHeadBytes: number): Http1HeadResult {
  const blank = buf.indexOf(CRLFCRLF);
  if (blank < 0) return buf.length > maxHeadBytes ? UNSUPPORTED : INCOMPLETE;
  if (blank > maxHeadBytes) return UNSUPPORTED;
  const lineEnd = buf.indexOf(CR);
  const line = buf.toString('latin1', 0, lineEnd);
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1 + 1 || line.slice(sp2 + 1) !== 'HTTP/1.1' || line.charCodeAt(sp1 + 1) !== 47) {
    return UNSUPPORTED;
  }
  const target = line.slice(sp1 + 1, sp2);
  if (target.includes(' ')) return UNSUPPORTED;
  const headers: Record<string, string> = {};
  let at = lineEnd + 2;
  while (at < blank + 2) {
    const end = buf.indexOf(CR, at);
    const colon = buf.indexOf(COLON, at);
    const first = buf[at];
    if (colon <= at || colon > end || first === 32 || first === 9 || buf[end + 1] !== 10) return UNSUPPORTED;
    const name = buf.toString('latin1', at, colon).toLowerCase();
    if (!TOKEN.test(name)) return UNSUPPORTED;
    const value = buf.toString('latin1', colon + 1, end).trim();
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (name === 'content-length' || name === 'host') {
      // Differing repeats are how request smuggling starts; let the strict parser refuse them.
      if (seen !== value) return UNSUPPORTED;
    } else headers[name] = `${seen}, ${value}`;
    at = end + 2;
  }
  if (
    headers['transfer-encoding'] !== undefined ||
    headers['expect'] !== undefined ||
    headers['upgrade'] !== undefined
  ) {
    return UNSUPPORTED;
  }
  const length = headers['content-length'];
  if (length !== undefined && !DIGITS.test(length)) return UNSUPPORTED;
  const connection = headers['connection'];
  return {
    kind: 'head',
    head: {
      method: line.slice(0, sp1),
      target,
      headEnd: blank + 4,
      headers,
      contentLength: length === undefined ? 0 : Number(length),
      close: connection !== undefined && CLOSE.test(connection),
    },
  };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const DIGITS = /^\d{1,15}$/;
const CLOSE = /(^|,)\s*close\s*(,|$)/i;
