import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { asFlotillaError, InvalidRequestError, type Logger } from '../../core/index.js';
import { handOver } from '../../protocol/http1/index.js';
import { createListener, type ServerCertificates } from '../../tls/index.js';
import { bodyLength, FastConnection } from './fast-connection.js';
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
}

/** JSON reply helper. */
export function json(status: number, value: unknown): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    return Promise.reject(tooLarge(max, declared));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(max, size));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function tooLarge(max: number, size: number): InvalidRequestError {
  return new InvalidRequestError(
    'FLT_BODY_TOO_LARGE',
    `request body: ${size} bytes exceeds the limit of ${max} bytes (--max-body)`,
  );
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

  constructor(
    private readonly options: HttpServerOptions,
    private readonly router: Router<Handler>,
    private readonly logger: Logger,
  ) {
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    this.server.headersTimeout = 66_000;
    const deps = {
      serve: (req: HttpRequest) => this.serve(req),
      maxBodyBytes: options.maxBodyBytes,
      bodyAlignment: options.bodyAlignment,
      draining: () => this.draining,
      handoff: (socket: Socket, buffered: Buffer | undefined) => this.handoff(socket, buffered),
      gone: (conn: FastConnection) => this.fast.delete(conn),
      settled: () => this.settled(),
    };
    this.listener = createListener(options.tls, (socket) => {
      this.fast.add(new FastConnection(socket, deps));
    });
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
      if (e.httpStatus >= 500)
        this.logger.error('request failed', { path: req.path, code: e.code, error: e.message });
      // A body we refused to read must not be parsed as the next request on this socket.
      return {
        ...json(e.httpStatus, { error: e.message, code: e.code }),
        close: e.code === 'FLT_BODY_TOO_LARGE',
      };
    }
  }

  private settled(): void {
    this.inflight--;
    if (this.inflight === 0) this.drained?.();
  }

  /** The node:http path: the same routes, for connections the fast path handed over. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let bodyPromise: Promise<Buffer> | undefined;
    // 'close' fires whether the response finished or the client went away.
    res.once('close', () => this.settled());
    const reply = await this.serve({
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      params: {},
      headers: req.headers,
      body: () => (bodyPromise ??= readBody(req, this.options.maxBodyBytes)),
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
    // Nothing is in flight: what is left is idle or holds part of a request never completed.
    for (const conn of this.fast) conn.close();
    await closed;
  }
}
