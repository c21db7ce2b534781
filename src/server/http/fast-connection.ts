import type { Socket } from 'node:net';
import { FlotillaError, InvalidRequestError, UnavailableError } from '../../core/index.js';
import {
  PIPELINE_HIGH_WATER_BYTES,
  type ReadProgress,
  type RequestMemory,
  readRequestHead,
  refuse,
  responseHead,
  SocketInput,
  type Watched,
} from '../../protocol/http1/index.js';
import type { HttpReply, HttpRequest, HttpServerOptions } from './http-server.js';

/** What a fast connection needs from the server around it. */
export interface FastConnectionDeps {
  /** Answers one request; never rejects (errors come back as replies). */
  serve(req: HttpRequest): Promise<HttpReply>;
  /** Larger bodies are answered 413 from their Content-Length, before any body byte is read. */
  readonly maxBodyBytes: number;
  /** A smaller limit chosen from the head (see `HttpServerOptions.bodyLimit`). */
  readonly bodyLimit: HttpServerOptions['bodyLimit'];
  /** Where in a body an 8-byte boundary is wanted (see `HttpServerOptions.bodyAlignment`). */
  readonly bodyAlignment: ((headers: HttpRequest['headers']) => number | undefined) | undefined;
  /** Unfinished request bytes over every connection, against the server-wide limit. */
  readonly memory: RequestMemory;
  /** Milliseconds, for the read deadlines. */
  now(): number;
  /** True once the server drains: answers close their connection. */
  draining(): boolean;
  /** Hands the connection to node:http with the bytes read and not yet used. */
  handoff(socket: Socket, buffered: Buffer | undefined): void;
  /** The connection closed or was handed off. */
  gone(conn: FastConnection): void;
  /** A request was answered (the drain waits for the last one). */
  settled(): void;
}

const MAX_HEAD_BYTES = 64 * 1024;
const IDLE_TIMEOUT_MS = 65_000;
/** Bodies up to this size go out in the same write as the head. */
const COPY_BODY_BELOW = 16 * 1024;
const EMPTY_QUERY = new URLSearchParams();

/**
 * A client connection answered without node:http: request heads are read straight from the
 * socket, complete requests with a Content-Length body are served one after the other, and each
 * answer goes out in one write. That skips the streams and objects node:http builds per request,
 * which cost more CPU than a small model's inference. The first request it cannot take (chunked,
 * Expect, Upgrade, HTTP/1.0…) hands the connection to node:http; a head RFC 9112 refuses is
 * answered 400, a body over the limit 413, both without reading on.
 */
export class FastConnection implements Watched {
  private readonly input: SocketInput;
  /** Bytes the request being read needs in all (0: its head is not complete yet). */
  private need = 0;
  /** Where the request being read wants its bytes aligned (from its head), if anywhere. */
  private alignAt: number | undefined;
  private busy = false;
  private ended = false;
  private waitingDrain = false;
  /** When the first byte of the head being read came (-1: none is being read). */
  private headSince = -1;
  /** When the body being read began, and how many of its bytes were here then. */
  private bodySince = 0;
  private bodyBase = 0;

  constructor(
    private readonly socket: Socket,
    private readonly deps: FastConnectionDeps,
  ) {
    this.input = new SocketInput(
      socket,
      { data: this.onData, drain: this.onDrain, timeout: this.onTimeout, close: this.onClose },
      IDLE_TIMEOUT_MS,
      deps.memory,
    );
  }

  /** True while no request is in flight or partly read: the drain may close it at once. */
  get idle(): boolean {
    return !this.busy && this.input.size === 0;
  }

  /** Ends the connection if nothing is in flight (draining); otherwise after the answer. */
  endIfIdle(): void {
    if (this.idle) this.socket.destroy();
  }

  /** Closes the connection once what was written to it has gone out. */
  close(): void {
    this.ended = true;
    const s = this.socket;
    if (s.writableLength === 0) s.destroy();
    else s.end(() => s.destroy());
  }

  readProgress(): ReadProgress {
    if (this.busy || this.ended || this.waitingDrain) return IDLE;
    if (this.need > 0)
      return { kind: 'body', since: this.bodySince, received: this.input.size - this.bodyBase };
    if (this.headSince >= 0 && this.input.size > 0) return { kind: 'head', since: this.headSince };
    return IDLE;
  }

  overdue(which: 'head' | 'body'): void {
    this.refuse(
      new FlotillaError(
        'FLT_REQUEST_TIMEOUT',
        which === 'head'
          ? 'the request head did not arrive within the header deadline (--header-timeout)'
          : 'the request body fell behind the body deadline (--body-timeout)',
      ),
    );
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    if (this.headSince < 0 && this.need === 0 && !this.busy) this.headSince = this.deps.now();
    const within = this.input.push(chunk);
    if (this.busy || this.waitingDrain) {
      // Answers are not going out as fast as requests come in: stop reading until they do.
      if (!within || this.input.size > PIPELINE_HIGH_WATER_BYTES) this.input.pause();
      return;
    }
    if (!within) {
      this.refuse(
        new UnavailableError(
          'FLT_OVERLOADED',
          `unfinished requests hold ${this.deps.memory.held} bytes, over the limit of ${this.deps.memory.limitBytes} (--max-request-memory)`,
          { retryAfterS: 1 },
        ),
        { 'retry-after': '1' },
      );
      return;
    }
    if (this.input.size < this.need) return;
    this.next();
  };

  private readonly onDrain = (): void => {
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    if (!this.busy && this.input.size > 0) this.readOn();
    this.readMore();
  };

  private readonly onTimeout = (): void => {
    // Nothing received for the idle timeout: a request begun and never finished is abandoned
    // too (a slow client must not hold a socket forever). One being answered is left alone.
    if (!this.busy) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.input.drop();
    this.deps.gone(this);
  };

  /** Bytes of the next request were here while the last was answered: its head's clock starts now. */
  private readOn(): void {
    this.headSince = this.deps.now();
    this.next();
  }

  /** Parses and serves the next request in the buffer, if it is complete. */
  private next(): void {
    const buf = this.input.take(this.alignAt);
    const parsed = readRequestHead(buf, MAX_HEAD_BYTES);
    if (parsed.kind === 'incomplete') return;
    if (parsed.kind === 'unsupported') {
      this.handoff();
      return;
    }
    if (parsed.kind === 'invalid') {
      this.refuse(new InvalidRequestError('FLT_INVALID_HTTP', `bad request head: ${parsed.reason}`));
      return;
    }
    const head = parsed.head;
    const q = head.target.indexOf('?');
    const path = q < 0 ? head.target : head.target.slice(0, q);
    const total = head.headEnd + head.contentLength;
    if (this.need === 0) {
      this.headSince = -1;
      if (head.contentLength > 0) {
        const limit = bodyLimitOf(this.deps, head.method, path, head.headers);
        if (head.contentLength > limit) {
          this.refuse(tooLarge(limit, head.contentLength));
          return;
        }
      }
    }
    if (buf.length < total) {
      // The rest arrives in more pieces, joined once it is all here: aligned for the decoder.
      if (this.need === 0) {
        this.bodySince = this.deps.now();
        this.bodyBase = buf.length;
      }
      const at = this.deps.bodyAlignment?.(head.headers);
      this.alignAt = at !== undefined && at < head.contentLength ? head.headEnd + at : undefined;
      this.need = total;
      return;
    }
    this.need = 0;
    this.alignAt = undefined;
    const body = buf.subarray(head.headEnd, total);
    this.input.consume(buf, total);
    const bodyPromise = Promise.resolve(body);
    this.busy = true;
    this.deps
      .serve({
        method: head.method,
        path,
        query: q < 0 ? EMPTY_QUERY : new URLSearchParams(head.target.slice(q + 1)),
        headers: head.headers,
        params: {},
        body: () => bodyPromise,
      })
      .then((reply) => this.answer(reply, head.method === 'HEAD', head.close));
  }

  private answer(reply: HttpReply, headOnly: boolean, clientClose: boolean): void {
    this.busy = false;
    if (this.ended) {
      this.deps.settled();
      return;
    }
    const close = clientClose || reply.close === true || this.deps.draining();
    const body = reply.body ?? '';
    const length = bodyLength(body);
    const head = responseHead(reply.status, reply.headers, length, close);
    let flushed = true;
    if (headOnly || length === 0) flushed = this.socket.write(head, 'latin1');
    else if (typeof body === 'string') flushed = this.socket.write(head + body);
    else if (length < COPY_BODY_BELOW) {
      const parts = Buffer.isBuffer(body) ? [body] : body;
      flushed = this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), ...parts]));
    } else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      if (Buffer.isBuffer(body)) flushed = this.socket.write(body);
      else for (const part of body) flushed = this.socket.write(part);
      this.socket.uncork();
    }
    this.deps.settled();
    if (close) {
      this.ended = true;
      this.input.drop();
      this.socket.end();
      return;
    }
    if (!flushed) {
      // The client is not reading its answers: read no more requests until it does.
      this.waitingDrain = true;
      this.input.pause();
      return;
    }
    if (this.input.size > 0) this.readOn();
    this.readMore();
  }

  /**
   * Reads on unless pipelined requests past the high-water mark wait behind the one being answered
   * (resuming for each answer would let them grow by a read per request).
   */
  private readMore(): void {
    if (this.ended || this.waitingDrain) return;
    if (!this.busy || this.input.size <= PIPELINE_HIGH_WATER_BYTES) this.input.resume();
  }

  /** Answers `err` and closes without reading the rest of the request. */
  private refuse(err: FlotillaError, headers?: Readonly<Record<string, string>>): void {
    this.ended = true;
    this.input.drop();
    refuse(this.socket, err, headers);
  }

  private handoff(): void {
    const buffered = this.input.detach();
    this.ended = true;
    this.deps.gone(this);
    this.deps.handoff(this.socket, buffered);
  }
}

const IDLE: ReadProgress = { kind: 'idle' };

/** The most body bytes a request may send: the hook's answer, never above `maxBodyBytes`. */
export function bodyLimitOf(
  deps: { readonly maxBodyBytes: number; readonly bodyLimit?: HttpServerOptions['bodyLimit'] },
  method: string,
  path: string,
  headers: HttpRequest['headers'],
): number {
  const chosen = deps.bodyLimit?.({ method, path, headers });
  return chosen === undefined ? deps.maxBodyBytes : Math.min(chosen, deps.maxBodyBytes);
}

/** The 413 of a body over `max` bytes. */
export function tooLarge(max: number, size: number): InvalidRequestError {
  return new InvalidRequestError(
    'FLT_BODY_TOO_LARGE',
    `request body: ${size} bytes exceeds the limit of ${max} bytes (--max-body)`,
  );
}

/** The byte length of a reply body in any of its forms. */
export function bodyLength(body: NonNullable<HttpReply['body']>): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.byteLength;
  let n = 0;
  for (const part of body) n += part.byteLength;
  return n;
}
