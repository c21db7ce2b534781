import type { Socket } from 'node:net';
import { readRequestHead, responseHead, SocketInput } from '../../protocol/http1/index.js';
import type { HttpReply, HttpRequest } from './http-server.js';

/** What a fast connection needs from the server around it. */
export interface FastConnectionDeps {
  /** Answers one request; never rejects (errors come back as replies). */
  serve(req: HttpRequest): Promise<HttpReply>;
  /** Requests with larger bodies go to node:http, which refuses them without buffering. */
  readonly maxBodyBytes: number;
  /** Where in a body an 8-byte boundary is wanted (see `HttpServerOptions.bodyAlignment`). */
  readonly bodyAlignment: ((headers: HttpRequest['headers']) => number | undefined) | undefined;
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
 * Expect, Upgrade, HTTP/1.0, a body over the limit…) hands the connection to node:http.
 */
export class FastConnection {
  private readonly input: SocketInput;
  /** Bytes the request being read needs in all (0: its head is not complete yet). */
  private need = 0;
  /** Where the request being read wants its bytes aligned (from its head), if anywhere. */
  private alignAt: number | undefined;
  private busy = false;
  private ended = false;
  private waitingDrain = false;

  constructor(
    private readonly socket: Socket,
    private readonly deps: FastConnectionDeps,
  ) {
    this.input = new SocketInput(
      socket,
      { data: this.onData, drain: this.onDrain, timeout: this.onTimeout, close: this.onClose },
      IDLE_TIMEOUT_MS,
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

  private readonly onData = (chunk: Buffer): void => {
    this.input.push(chunk);
    if (this.busy || this.ended || this.waitingDrain || this.input.size < this.need) return;
    this.next();
  };

  private readonly onDrain = (): void => {
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    if (!this.busy && this.input.size > 0) this.next();
  };

  private readonly onTimeout = (): void => {
    // Nothing received for the idle timeout: a request begun and never finished is abandoned
    // too (a slow client must not hold a socket forever). One being answered is left alone.
    if (!this.busy) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.deps.gone(this);
  };

  /** Parses and serves the next request in the buffer, if it is complete. */
  private next(): void {
    const buf = this.input.take(this.alignAt);
    const parsed = readRequestHead(buf, MAX_HEAD_BYTES);
    if (parsed.kind === 'incomplete') return;
    if (parsed.kind === 'unsupported' || parsed.head.contentLength > this.deps.maxBodyBytes) {
      this.handoff();
      return;
    }
    const head = parsed.head;
    const total = head.headEnd + head.contentLength;
    if (buf.length < total) {
      // The rest arrives in more pieces, joined once it is all here: aligned for the decoder.
      const at = this.deps.bodyAlignment?.(head.headers);
      this.alignAt = at !== undefined && at < head.contentLength ? head.headEnd + at : undefined;
      this.need = total;
      return;
    }
    this.need = 0;
    this.alignAt = undefined;
    const body = buf.subarray(head.headEnd, total);
    this.input.consume(buf, total);
    const q = head.target.indexOf('?');
    const bodyPromise = Promise.resolve(body);
    this.busy = true;
    this.deps
      .serve({
        method: head.method,
        path: q < 0 ? head.target : head.target.slice(0, q),
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
      this.socket.end();
      return;
    }
    if (!flushed) this.waitingDrain = true;
    else if (this.input.size > 0) this.next();
  }

  private handoff(): void {
    const buffered = this.input.detach();
    this.ended = true;
    this.deps.gone(this);
    this.deps.handoff(this.socket, buffered);
  }
}

/** The byte length of a reply body in any of its forms. */
export function bodyLength(body: NonNullable<HttpReply['body']>): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.byteLength;
  let n = 0;
  for (const part of body) n += part.byteLength;
  return n;
}
