import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asFlotillaError, InvalidRequestError, type Logger } from '../../core/index.js';
import type { Router } from './router.js';

/** What a handler sees of a request. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage['headers'];
  /** The whole body, bounded by `maxBodyBytes`. */
  body(): Promise<Buffer>;
}

/** What a handler answers. */
export interface HttpReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: string | Buffer;
}

export type Handler = (req: HttpRequest) => Promise<HttpReply> | HttpReply;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
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
 * A node:http server around a router: bounded bodies, errors as `{"error": "…"}` with the
 * status of their code, and a drain on close that finishes every request in flight.
 */
export class HttpServer {
  private readonly server: Server;
  private inflight = 0;
  private draining = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly options: HttpServerOptions,
    private readonly router: Router<Handler>,
    private readonly logger: Logger,
  ) {
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    // Idle keep-alive sockets must not pin the process open on shutdown.
    this.server.headersTimeout = 66_000;
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inflight++;
    let reply: HttpReply;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    try {
      const match = this.router.match(req.method ?? 'GET', path);
      let bodyPromise: Promise<Buffer> | undefined;
      reply = await match.handler({
        method: req.method ?? 'GET',
        path,
        query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
        params: match.params,
        headers: req.headers,
        body: () => (bodyPromise ??= readBody(req, this.options.maxBodyBytes)),
      });
    } catch (err) {
      const e = asFlotillaError(err);
      if (e.httpStatus >= 500) this.logger.error('request failed', { path, code: e.code, error: e.message });
      reply = { ...json(e.httpStatus, { error: e.message, code: e.code }) };
      // A body we refused to read must not be parsed as the next request on this socket.
      if (e.code === 'FLT_BODY_TOO_LARGE') res.shouldKeepAlive = false;
    }
    const headers: Record<string, string | number> = { ...reply.headers };
    if (this.draining) headers['connection'] = 'close';
    const body = reply.body ?? '';
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    // 'close' fires whether the response finished or the client went away.
    res.once('close', () => {
      this.inflight--;
      if (this.inflight === 0) this.drained?.();
    });
    res.writeHead(reply.status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Stops accepting connections and resolves once every request in flight has been answered. */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.server.closeAllConnections();
    await closed;
  }
}
