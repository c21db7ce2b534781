import type { Socket } from 'node:net';
import { InvalidRequestError } from '../../core/index.js';
import {
  RawConnection,
  type RequestMemory,
  readRequestHead,
  responseHead,
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
export class FastConnection extends RawConnection {
  /** Where the request being read wants its bytes aligned (from its head), if anywhere. */
  private alignAt: number | undefined;
  private busy = false;

  constructor(
    socket: Socket,
    private readonly deps: FastConnectionDeps,
  ) {
    super(socket, deps.memory);
  }

  protected get answering(): boolean {
    return this.busy;
  }

  protected now(): number {
    return this.deps.now();
  }

  protected gone(): void {
    this.deps.gone(this);
  }

  protected passOn(socket: Socket, buffered: Buffer | undefined): void {
    this.deps.handoff(socket, buffered);
  }

  /** Closes the connection once what was written to it has gone out. */
  close(): void {
    this.ended = true;
    const s = this.socket;
    if (s.writableLength === 0) s.destroy();
    else s.end(() => s.destroy());
  }

  /** Parses and serves the next request in the buffer, if it is complete. */
  protected next(): void {
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
      this.headRead();
      if (head.contentLength > 0) {
        const limit = bodyLimitOf(this.deps, head.method, path, head.headers);
        if (head.contentLength > limit.bytes) {
          this.refuse(tooLarge(limit, head.contentLength));
          return;
        }
      }
    }
    if (buf.length < total) {
      // The rest arrives in more pieces, joined once it is all here: aligned for the decoder.
      const at = this.deps.bodyAlignment?.(head.headers);
      this.alignAt = at !== undefined && at < head.contentLength ? head.headEnd + at : undefined;
      this.awaitBody(total, buf.length);
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
    this.answered(!close, flushed);
  }
}

/** The most body bytes a request may send, and whether its model (not `--max-body`) set it. */
export interface BodyLimit {
  readonly bytes: number;
  readonly byModel: boolean;
}

/** The most body bytes a request may send: the hook's answer, never above `maxBodyBytes`. */
export function bodyLimitOf(
  deps: { readonly maxBodyBytes: number; readonly bodyLimit?: HttpServerOptions['bodyLimit'] },
  method: string,
  path: string,
  headers: HttpRequest['headers'],
): BodyLimit {
  const chosen = deps.bodyLimit?.({ method, path, headers });
  return chosen === undefined || chosen >= deps.maxBodyBytes
    ? { bytes: deps.maxBodyBytes, byModel: false }
    : { bytes: chosen, byModel: true };
}

/** The 413 of a body over its limit, naming what set the limit. */
export function tooLarge(limit: BodyLimit, size: number): InvalidRequestError {
  const why = limit.byModel ? "what the model's inputs can need at their largest shapes" : '--max-body';
  return new InvalidRequestError(
    'FLT_BODY_TOO_LARGE',
    `request body: ${size} bytes exceeds the limit of ${limit.bytes} bytes (${why})`,
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
