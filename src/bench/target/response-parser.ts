/** One parsed HTTP response. */
export interface HttpReply {
  readonly status: number;
  /** Values of the captured headers, in the order they were asked for; undefined when absent. */
  readonly headers: readonly (string | undefined)[];
  /** The body, when bodies are kept or the status is not 200 (errors explain themselves). */
  readonly body: Buffer | undefined;
  /** The server will close the connection after this response. */
  readonly close: boolean;
}

/** The bytes are not an HTTP/1.x response. */
export class HttpProtocolError extends Error {
  override readonly name = 'HttpProtocolError';
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/** A head larger than this is not one a model server sends; refuse rather than buffer forever. */
const MAX_HEAD = 64 * 1024;

type State = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close';

/**
 * An incremental HTTP/1.1 response parser for a load generator: it reads only the status, the
 * framing headers (content-length, transfer-encoding, connection) and the headers it is asked to
 * capture, and keeps bodies only when asked, because every microsecond here is a request the
 * generator cannot send. Replies are delivered in order, after the parser's state is reset, so
 * the callback may send the next request on the same connection.
 */
export class ResponseParser {
  private state: State = 'head';
  private pending: Buffer | undefined;
  private remaining = 0;
  private status = 0;
  private close = false;
  private headers: (string | undefined)[] = [];
  private parts: Buffer[] = [];
  private keep = false;
  private readonly lengths: Set<number>;

  constructor(
    private readonly onReply: (reply: HttpReply) => void,
    private readonly options: { readonly keepBody: boolean; readonly capture: readonly string[] },
  ) {
    // Header names are lower-cased only when their length could match one we read.
    this.lengths = new Set(
      ['content-length', 'transfer-encoding', 'connection', ...options.capture].map((n) => n.length),
    );
  }

  /** Feeds bytes from the socket; throws HttpProtocolError on anything that is not HTTP. */
  execute(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < buf.length) {
      switch (this.state) {
        case 'head': {
          const end = buf.indexOf(HEAD_END, at);
          if (end < 0) {
            this.keepRest(buf, at, MAX_HEAD);
            return;
          }
          this.readHead(buf, at, end);
          at = end + 4;
          break;
        }
        case 'body':
        case 'chunk-data': {
          const n = Math.min(this.remaining, buf.length - at);
          if (this.keep) this.parts.push(buf.subarray(at, at + n));
          this.remaining -= n;
          at += n;
          if (this.remaining === 0) {
            if (this.state === 'body') this.emit();
            else this.state = 'chunk-end';
          }
          break;
        }
        case 'chunk-size': {
          const eol = buf.indexOf(CRLF, at);
          if (eol < 0) {
            this.keepRest(buf, at, 1024);
            return;
          }
          const size = Number.parseInt(buf.toString('latin1', at, eol), 16);
          if (!Number.isFinite(size) || size < 0) throw new HttpProtocolError('bad chunk size');
          at = eol + 2;
          this.remaining = size;
          this.state = size === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-end': {
          if (buf.length - at < 2) {
            this.keepRest(buf, at, 2);
            return;
          }
          at += 2;
          this.state = 'chunk-size';
          break;
        }
        case 'trailers': {
          const eol = buf.indexOf(CRLF, at);
          if (eol < 0) {
            this.keepRest(buf, at, MAX_HEAD);
            return;
          }
          // An empty line ends the trailers, and the response with them.
          const empty = eol === at;
          at = eol + 2;
          if (empty) this.emit();
          break;
        }
        case 'until-close': {
          if (this.keep) this.parts.push(buf.subarray(at));
          at = buf.length;
          break;
        }
      }
    }
  }

  /** The socket ended: a body read until close is complete now. */
  finish(): void {
    if (this.state === 'until-close') this.emit();
  }

  /** Whether a response is partly read (the connection died under it). */
  get busy(): boolean {
    return this.state !== 'head' || this.pending !== undefined;
  }

  private keepRest(buf: Buffer, at: number, limit: number): void {
    if (buf.length - at > limit) throw new HttpProtocolError(`more than ${limit} bytes without a line end`);
    this.pending = buf.subarray(at);
  }

  private readHead(buf: Buffer, start: number, end: number): void {
    // "HTTP/1.1 200 OK": the status is the three digits after the first space.
    if (buf[start] !== 0x48 || buf[start + 4] !== 0x2f || buf[start + 8] !== 0x20) {
      throw new HttpProtocolError(
        `not an HTTP response: ${JSON.stringify(buf.toString('latin1', start, start + 16))}`,
      );
    }
    this.status = (buf[start + 9]! - 48) * 100 + (buf[start + 10]! - 48) * 10 + (buf[start + 11]! - 48);
    this.close = buf[start + 7] === 0x30; // HTTP/1.0 closes unless told otherwise
    const capture = this.options.capture;
    const headers: (string | undefined)[] = new Array(capture.length).fill(undefined);
    let length = -1;
    let chunked = false;
    const text = buf.toString('latin1', start, end);
    let line = text.indexOf('\r\n') + 2;
    while (line > 1 && line < text.length) {
      let eol = text.indexOf('\r\n', line);
      if (eol < 0) eol = text.length;
      const colon = text.indexOf(':', line);
      if (colon > line && colon < eol && this.lengths.has(colon - line)) {
        const name = text.slice(line, colon).toLowerCase();
        const value = text.slice(colon + 1, eol).trim();
        if (name === 'content-length') length = Number(value);
        else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
        else if (name === 'connection') this.close = value.toLowerCase() === 'close';
        const i = capture.indexOf(name);
        if (i >= 0) headers[i] = value;
      }
      line = eol + 2;
    }
    this.headers = headers;
    this.keep = this.options.keepBody || this.status !== 200;
    this.parts = [];
    if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) {
      this.emit();
    } else if (chunked) {
      this.state = 'chunk-size';
    } else if (length >= 0) {
      if (!Number.isInteger(length)) throw new HttpProtocolError(`bad content-length ${length}`);
      this.remaining = length;
      this.state = 'body';
      if (length === 0) this.emit();
    } else {
      this.state = 'until-close';
      this.close = true;
    }
  }

  private emit(): void {
    const body = !this.keep
      ? undefined
      : this.parts.length === 1
        ? this.parts[0]!
        : Buffer.concat(this.parts);
    const reply: HttpReply = { status: this.status, headers: this.headers, body, close: this.close };
    this.state = 'head';
    this.parts = [];
    // 1xx answers are interim: the real one follows.
    if (this.status >= 200) this.onReply(reply);
  }
}
