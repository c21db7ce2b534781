import { connect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import { HttpProtocolError, type HttpReply, ResponseParser } from './response-parser.js';

/** Called once per request: an error (connection failed, timed out, garbage) or the reply. */
export type ReplyCallback = (err: Error | undefined, reply: HttpReply | undefined) => void;

/** Options of {@link HttpPool}. */
export interface HttpPoolOptions {
  readonly host: string;
  readonly port: number;
  /** Most sockets opened; they open on demand, so a closed loop of n users opens n. */
  readonly connections: number;
  /** Requests written ahead on one socket before its first answer (1 = no pipelining). */
  readonly pipelining: number;
  /** A socket with requests in flight and no byte received for this long fails them, ms. */
  readonly timeoutMs: number;
  /** Keep 200 bodies (for accuracy); error bodies are always kept. */
  readonly keepBody: boolean;
  /** Lower-case names of response headers to read. */
  readonly capture: readonly string[];
  /** Connect over TLS with these options (an `https://` target); plain TCP without. */
  readonly tls?: ConnectionOptions | undefined;
}

/** A request that could not be answered because of its connection, not the server's answer. */
export class HttpConnectionError extends Error {
  override readonly name = 'HttpConnectionError';
}

class Connection {
  readonly socket: Socket;
  readonly parser: ResponseParser;
  readonly inflight: ReplyCallback[] = [];
  /** On the pool's free list. */
  listed = false;
  usable = true;
  /** Bytes arrived since the pool's last timeout sweep. */
  active = false;
  /** Sweeps in a row with requests in flight and nothing received. */
  quietSweeps = 0;

  constructor(pool: HttpPool, options: HttpPoolOptions) {
    this.parser = new ResponseParser((reply) => pool.answered(this, reply), options);
    // Requests written before a TLS handshake ends wait in the socket until it is done.
    this.socket = options.tls
      ? connectTls({ ...options.tls, host: options.host, port: options.port }).setNoDelay(true)
      : connect({ host: options.host, port: options.port, noDelay: true });
    // With pipelining, answers that arrive together make their users send together: corking
    // turns those sends into one write. Without it there is one answer per chunk: nothing to join.
    const cork = options.pipelining > 1;
    this.socket.on('data', (chunk: Buffer) => {
      this.active = true;
      if (cork) this.socket.cork();
      try {
        this.parser.execute(chunk);
      } catch (err) {
        this.socket.destroy(err as Error);
      } finally {
        if (cork) this.socket.uncork();
      }
    });
    this.socket.on('end', () => this.parser.finish());
    this.socket.on('error', () => {});
    this.socket.on('close', () => pool.closed(this, this.socket.errored ?? undefined));
  }
}

/**
 * A keep-alive HTTP/1.1 connection pool for load generation: requests are pre-encoded buffers,
 * sockets open on demand up to `connections`, each carries up to `pipelining` requests, and
 * requests beyond that wait in a FIFO queue (so an open-loop generator never waits to send; the
 * queueing shows up in latency). Node's http client and undici cost several times wrk's CPU per
 * request; this keeps `flotilla bench` close to wrk (bench/loadgen measures it).
 */
export class HttpPool {
  private readonly free: Connection[] = [];
  private readonly all = new Set<Connection>();
  private queue: { bytes: Buffer; done: ReplyCallback }[] = [];
  private queueHead = 0;
  private closing = false;

  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: HttpPoolOptions) {
    if (options.connections < 1 || options.pipelining < 1)
      throw new RangeError('connections and pipelining must be >= 1');
    // One timer for the pool instead of a socket timeout, which Node re-arms on every read and
    // write: a socket fails its requests after four sweeps (timeoutMs) with nothing received.
    this.sweeper = setInterval(() => this.sweep(), options.timeoutMs / 4).unref();
  }

  private sweep(): void {
    for (const conn of this.all) {
      if (conn.active || conn.inflight.length === 0) conn.quietSweeps = 0;
      else if (++conn.quietSweeps >= 4)
        conn.socket.destroy(new HttpConnectionError(`no answer within ${this.options.timeoutMs} ms`));
      conn.active = false;
    }
  }

  /** Requests waiting for a socket. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** Sends `bytes` (a whole request); `done` is called exactly once, never synchronously. */
  send(bytes: Buffer, done: ReplyCallback): void {
    if (this.closing) {
      queueMicrotask(() => done(new HttpConnectionError('pool closed'), undefined));
      return;
    }
    let conn = this.free.pop();
    // A socket the server said it will close may still be listed (it had room for more).
    while (conn && !conn.usable) {
      conn.listed = false;
      conn = this.free.pop();
    }
    conn ??= this.all.size < this.options.connections ? this.open() : undefined;
    if (!conn) {
      this.queue.push({ bytes, done });
      return;
    }
    conn.listed = false;
    this.write(conn, bytes, done);
  }

  private open(): Connection {
    const conn = new Connection(this, this.options);
    this.all.add(conn);
    return conn;
  }

  private write(conn: Connection, bytes: Buffer, done: ReplyCallback): void {
    conn.inflight.push(done);
    conn.socket.write(bytes);
    if (conn.inflight.length < this.options.pipelining && conn.usable) {
      conn.listed = true;
      this.free.push(conn);
    }
  }

  /** The parser's reply for the oldest request on `conn`. */
  answered(conn: Connection, reply: HttpReply): void {
    const done = conn.inflight.shift();
    if (reply.close) conn.usable = false;
    if (done) done(undefined, reply);
    else conn.socket.destroy(new HttpProtocolError('an answer to no request'));
    if (!conn.usable) return;
    const next = this.nextQueued();
    if (next) this.write(conn, next.bytes, next.done);
    else if (!conn.listed) {
      conn.listed = true;
      this.free.push(conn);
    }
  }

  /** The socket closed: its requests in flight fail, and queued ones get a new socket. */
  closed(conn: Connection, err: Error | undefined): void {
    this.all.delete(conn);
    if (conn.listed) this.free.splice(this.free.indexOf(conn), 1);
    const failed = conn.inflight.splice(0);
    if (failed.length > 0) {
      const cause =
        err instanceof HttpConnectionError || err instanceof HttpProtocolError
          ? err
          : new HttpConnectionError(err ? `${err.message}` : 'connection closed before the answer', {
              cause: err,
            });
      for (const done of failed) done(cause, undefined);
    }
    if (!this.closing && this.queued > 0) {
      const next = this.nextQueued()!;
      this.write(this.open(), next.bytes, next.done);
    }
  }

  private nextQueued(): { bytes: Buffer; done: ReplyCallback } | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const next = this.queue[this.queueHead++]!;
    // Drop consumed entries now and then instead of shifting an array of thousands each time.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return next;
  }

  /** Fails what is queued, closes every socket, and resolves once they are closed. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    const queued = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    for (const q of queued) q.done(new HttpConnectionError('pool closed'), undefined);
    await Promise.all(
      [...this.all].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.socket.closed) return resolve();
            c.socket.once('close', () => resolve());
            c.socket.destroy();
          }),
      ),
    );
  }
}
