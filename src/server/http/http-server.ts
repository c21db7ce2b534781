import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { asFlotillaError, InvalidRequestError, type Logger } from '../../core/index.js';
import {
  applyFallbackDeadlines,
  CONNECTION_LIMIT_DEFAULTS,
  DeadlineSweeper,
  handOver,
  originForm,
  RequestMemory,
  rawHeadProblem,
  refuse,
  type SweepTimers,
} from '../../protocol/http1/index.js';
import { createListener, type ServerCertificates } from '../../tls/index.js';
import { bodyLength, bodyLimitOf, FastConnection } from './fast-connection.js';
import { readNodeBody, readStreamBody } from './node-body.js';
import type { Router } from './router.js';

/** What a handler sees of a request. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  /** Header values by lower-case name. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body, bounded by `maxBodyBytes`. */
  body(): Promise<Buffer>;
}

/** What a handler answers. */
export interface HttpReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string | number>>;
  /** A string, a buffer, or pieces written one after the other (large tensors are not copied). */
  readonly body?: string | Buffer | readonly Uint8Array[];
  /** Close the connection after this answer (its request's body was not read). */
  readonly close?: boolean;
}

export type Handler = (req: HttpRequest) => Promise<HttpReply> | HttpReply;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  /**
   * Where in a request's body an 8-byte boundary is wanted (binary tensor data after an inference
   * header), if anywhere: a body read in several pieces is joined with that byte aligned, so the
   * tensors in it are read in place rather than copied once more.
   */
  readonly bodyAlignment?: (headers: HttpRequest['headers']) => number | undefined;
  /**
   * The most body bytes this request may send, decided from its head before any body byte is
   * buffered (at most `maxBodyBytes`; undefined: `maxBodyBytes`). A larger Content-Length is
   * answered 413 FLT_BODY_TOO_LARGE and the connection closed; a chunked body is cut there.
   */
  readonly bodyLimit?: (head: {
    readonly method: string;
    readonly path: string;
    readonly headers: HttpRequest['headers'];
  }) => number | undefined;
  /** Serve HTTPS with these certificates (reloaded when their files change); plain HTTP without. */
  readonly tls?: ServerCertificates | undefined;
  /** A request head must be complete this long after its first byte (default 20 s); else 408. */
  readonly headerTimeoutMs?: number;
  /** A body gets this long plus 1 s per `bodyMinRate` bytes received (default 20 s); else 408. */
  readonly bodyTimeoutMs?: number;
  /** Bytes per second a body must keep up (default 500). */
  readonly bodyMinRate?: number;
  /** Bytes of unfinished requests held over all connections (default 512 MiB); past it 503. */
  readonly requestMemoryBytes?: number;
}

/** What the server is built with besides its options (tests pass a fake clock and timers). */
export interface HttpServerDeps {
  now(): number;
  readonly timers?: SweepTimers;
}

/** Errors after which the rest of the request is not read: the connection closes after the answer. */
const CLOSES: ReadonlySet<string> = new Set([
  'FLT_BODY_TOO_LARGE',
  'FLT_REQUEST_TIMEOUT',
  'FLT_OVERLOADED',
  'FLT_CLIENT_CLOSED',
]);

/** JSON reply helper. */
export function json(status: number, value: unknown): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

/**
 * The server's HTTP front: a router behind two transports. Every connection starts on a fast path
 * that reads plain HTTP/1.1 requests straight from the socket (fast-connection.ts); the first
 * request it cannot take hands the connection to a node:http server that never listens itself.
 * Bodies are bounded, errors answer `{"error": "…"}` with the status of their code, and close()
 * drains: every request in flight on either path is answered first.
 */
export class HttpServer {
  private readonly listener: NetServer;
  private readonly server: Server;
  private readonly fast = new Set<FastConnection>();
  private inflight = 0;
  private draining = false;
  private drained: (() => void) | undefined;
  /** Unfinished request bytes over every connection, both paths. */
  private readonly memory: RequestMemory;
  /** The header and body deadlines of fast connections and node:http bodies. */
  private readonly sweeper: DeadlineSweeper;
  private readonly now: () => number;
  private readonly pendingAnswers = new WeakMap<Socket, Set<() => void>>();

  constructor(
    private readonly options: HttpServerOptions,
    private readonly router: Router<Handler>,
    private readonly logger: Logger,
    deps: HttpServerDeps = { now: Date.now },
  ) {
    const d = CONNECTION_LIMIT_DEFAULTS;
    const limits = {
      headerTimeoutMs: options.headerTimeoutMs ?? d.headerTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs ?? d.bodyTimeoutMs,
      bodyMinRate: options.bodyMinRate ?? d.bodyMinRate,
    };
    this.now = deps.now;
    this.memory = new RequestMemory(options.requestMemoryBytes ?? d.requestMemoryBytes);
    this.sweeper = new DeadlineSweeper(limits, deps.now, deps.timers);
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    applyFallbackDeadlines(this.server, limits);
    const fastDeps = {
      serve: (req: HttpRequest) => this.serve(req),
      maxBodyBytes: options.maxBodyBytes,
      bodyLimit: options.bodyLimit,
      bodyAlignment: options.bodyAlignment,
      memory: this.memory,
      now: deps.now,
      draining: () => this.draining,
      handoff: (socket: Socket, buffered: Buffer | undefined) => this.handoff(socket, buffered),
      gone: (conn: FastConnection) => {
        this.fast.delete(conn);
        this.sweeper.delete(conn);
      },
      settled: () => this.settled(),
    };
    this.fastDeps = fastDeps;
    this.listener = createListener(options.tls, (socket) => this.accept(socket));
  }

  private readonly fastDeps: ConstructorParameters<typeof FastConnection>[1];

  /**
   * Serves an HTTP/1.1 connection accepted elsewhere: `serve --port` takes every connection on one
   * port and hands those that do not open with the HTTP/2 preface here.
   */
  accept(socket: Socket): void {
    const conn = new FastConnection(socket, this.fastDeps);
    this.fast.add(conn);
    this.sweeper.add(conn);
  }

  /**
   * Serves one REST request that came as an HTTP/2 stream, with the same routes, bounds and
   * drain accounting as HTTP/1.1: behind a Knative port named `h2c` the queue-proxy speaks
   * HTTP/2 to the container for every request, REST included (`serve --port`).
   */
  serveHttp2Stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const url = String(headers[':path'] ?? '/');
    const q = url.indexOf('?');
    const method = String(headers[':method'] ?? 'GET');
    const path = q < 0 ? url : url.slice(0, q);
    let bodyPromise: Promise<Buffer> | undefined;
    let answered = false;
    const replied = this.serve({
      method,
      path,
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      params: {},
      headers,
      body: () =>
        (bodyPromise ??= readStreamBody(stream, headers, () => stream.readableEnded, {
          limit: bodyLimitOf(this.options, method, path, headers),
          memory: this.memory,
          sweeper: this.sweeper,
          now: this.now,
        })),
    });
    // serve() counted the request in flight; it is settled once its stream is gone, answered or not.
    stream.once('close', () => {
      if (!answered) {
        answered = true;
        void replied.finally(() => this.settled());
      }
    });
    stream.on('error', () => undefined);
    void replied.then((reply) => {
      if (stream.destroyed || stream.closed) return;
      const body = reply.body ?? '';
      stream.respond({ ...reply.headers, ':status': reply.status, 'content-length': bodyLength(body) });
      if (method === 'HEAD') stream.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) stream.end(body);
      else {
        for (const part of body) stream.write(part);
        stream.end();
      }
      // A body it refused to read: the rest of this stream only is dropped, not the connection.
      if (reply.close && !stream.readableEnded) stream.resume();
    });
  }

  /** Bytes of unfinished requests held now, over every connection. */
  get heldRequestBytes(): number {
    return this.memory.held;
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(this.options.port, this.options.host, () => {
        this.listener.off('error', reject);
        resolve();
      });
    });
    return this.listener.address() as AddressInfo;
  }

  /** Routes one request and runs its handler; counts it in flight until settled() is called. */
  private async serve(req: HttpRequest): Promise<HttpReply> {
    this.inflight++;
    try {
      const match = this.router.match(req.method, req.path);
      return await match.handler({ ...req, params: match.params });
    } catch (err) {
      const e = asFlotillaError(err);
      if (e.code === 'FLT_CLIENT_CLOSED') this.logger.debug('client closed mid-request', { path: req.path });
      else if (e.httpStatus >= 500)
        this.logger.error('request failed', { path: req.path, code: e.code, error: e.message });
      const reply = json(e.httpStatus, { error: e.message, code: e.code });
      // A body we refused to read must not be parsed as the next request on this socket.
      return CLOSES.has(e.code) ? { ...reply, close: true } : reply;
    }
  }

  private settled(): void {
    this.inflight--;
    if (this.inflight === 0) this.drained?.();
  }

  /** The node:http path: the same routes, for connections the fast path handed over. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const problem = rawHeadProblem(req.rawHeaders);
    if (problem !== undefined) {
      // llhttp let it through; nothing after it on this connection can be trusted.
      refuse(req.socket, new InvalidRequestError('FLT_INVALID_HTTP', `bad request head: ${problem}`));
      return;
    }
    const url = originForm(req.url ?? '/');
    const q = url.indexOf('?');
    const method = req.method ?? 'GET';
    const path = q < 0 ? url : url.slice(0, q);
    let bodyPromise: Promise<Buffer> | undefined;
    // 'close' fires whether the response finished or the client went away; a response queued
    // behind another (pipelining) never fires it when the socket dies: the socket's close settles it.
    const waiting = this.answersOn(req.socket);
    const settle = (): void => {
      if (!waiting.delete(settle)) return;
      this.settled();
    };
    waiting.add(settle);
    res.once('close', settle);
    const reply = await this.serve({
      method,
      path,
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      params: {},
      headers: req.headers,
      body: () =>
        (bodyPromise ??= readNodeBody(req, {
          limit: bodyLimitOf(this.options, method, path, req.headers),
          memory: this.memory,
          sweeper: this.sweeper,
          now: this.now,
        })),
    });
    if (reply.close) res.shouldKeepAlive = false;
    const headers: Record<string, string | number> = { ...reply.headers };
    if (this.draining) headers['connection'] = 'close';
    const body = reply.body ?? '';
    headers['content-length'] = bodyLength(body);
    res.writeHead(reply.status, headers);
    if (req.method === 'HEAD') res.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) res.end(body);
    else {
      for (const part of body) res.write(part);
      res.end();
    }
  }

  /** The settle callbacks of a node:http connection's requests not yet answered. */
  private answersOn(socket: Socket): Set<() => void> {
    let set = this.pendingAnswers.get(socket);
    if (!set) {
      const answers = new Set<() => void>();
      this.pendingAnswers.set(socket, answers);
      socket.once('close', () => {
        for (const settle of answers) settle();
      });
      set = answers;
    }
    return set;
  }

  private handoff(socket: Socket, buffered: Buffer | undefined): void {
    handOver(this.server, socket, buffered);
  }

  /** Stops accepting connections and resolves once every request in flight has been answered. */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    for (const conn of this.fast) conn.endIfIdle();
    this.server.closeIdleConnections();
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.server.closeAllConnections();
    this.sweeper.close();
    // Nothing is in flight: what is left is idle or holds part of a request never completed.
    for (const conn of this.fast) conn.close();
    await closed;
  }
}
