import { connect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';

/** Who is using an upstream socket: its events go to the owner, not to per-try listeners. */
export interface SocketOwner {
  onUpstreamData(chunk: Buffer): void;
  onUpstreamClose(error: Error | undefined): void;
  onUpstreamDrain(): void;
}

/** A pooled upstream socket with its owner and last error. */
export interface PooledSocket extends Socket {
  owner?: SocketOwner | undefined;
  lastError?: Error | undefined;
  /** Taken from the idle list: the replica may have closed it meanwhile (the keep-alive race). */
  reused?: boolean;
}

/** Settings of one replica's pool. */
export interface SocketPoolOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Connect over TLS with these options (CA, client certificate, server name); plain TCP without. */
  readonly tls?: ConnectionOptions | undefined;
}

type Waiter = (err: Error | undefined, socket: PooledSocket | undefined) => void;

/**
 * Keep-alive TCP connections to one replica for the fast path (raw HTTP/1.1 bytes). Each socket
 * gets its listeners once, at connect, and hands events to whoever owns it now, so a request
 * allocates no closures for its socket. Waiters queue when every connection is busy.
 */
export class SocketPool {
  private readonly idle: PooledSocket[] = [];
  private readonly waiters: Waiter[] = [];
  private open = 0;
  private closed = false;

  constructor(private readonly options: SocketPoolOptions) {}

  /** A connected socket (reused or new), or the connection error. */
  acquire(cb: Waiter): void {
    if (this.closed) {
      cb(Object.assign(new Error('replica removed'), { code: 'UND_ERR_CLOSED' }), undefined);
      return;
    }
    while (this.idle.length > 0) {
      const s = this.idle.pop()!;
      if (!s.destroyed) {
        s.setTimeout(0);
        s.reused = true;
        cb(undefined, s);
        return;
      }
    }
    if (this.open >= this.options.maxConnections) {
      this.waiters.push(cb);
      return;
    }
    this.connect(cb);
  }

  /** Gives a socket back: kept for the next request when the exchange left it reusable. */
  release(s: PooledSocket, reusable: boolean): void {
    s.owner = undefined;
    if (!reusable || this.closed || s.destroyed) {
      s.destroy();
      return;
    }
    // A call pauses its socket while the client is slow to read; the answer may complete in the
    // same read. Kept paused, the next request on it would never see its answer (the reliability
    // suite's unread-answers probe: the first request through the gateway after such a client hung).
    s.resume();
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(undefined, s);
      return;
    }
    s.setTimeout(this.options.idleTimeoutMs);
    this.idle.push(s);
  }

  /** Closes idle sockets and refuses new ones; sockets in use close when released. */
  close(): void {
    this.closed = true;
    for (const s of this.idle.splice(0)) s.destroy();
    for (const w of this.waiters.splice(0))
      w(Object.assign(new Error('replica removed'), { code: 'UND_ERR_CLOSED' }), undefined);
  }

  private connect(cb: Waiter): void {
    this.open++;
    const host = this.options.host.replace(/^\[|\]$/g, '');
    const tls = this.options.tls;
    const s = (
      tls
        ? connectTls({ ...tls, host, port: this.options.port }).setNoDelay(true)
        : connect({ host, port: this.options.port, noDelay: true })
    ) as PooledSocket;
    let connected = false;
    const timer = setTimeout(
      () => s.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
      this.options.connectTimeoutMs,
    );
    // A TLS socket is ready for bytes once its handshake is done, not at TCP connect.
    s.once(tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      clearTimeout(timer);
      cb(undefined, s);
    });
    s.on('data', (chunk: Buffer) => {
      if (s.owner) s.owner.onUpstreamData(chunk);
      // Bytes on an idle connection are a protocol error: it cannot be reused.
      else s.destroy();
    });
    s.on('drain', () => s.owner?.onUpstreamDrain());
    s.on('timeout', () => s.destroy());
    s.on('error', (err) => (s.lastError = err));
    s.once('close', () => {
      clearTimeout(timer);
      this.open--;
      const i = this.idle.indexOf(s);
      if (i >= 0) this.idle.splice(i, 1);
      if (!connected) {
        cb(s.lastError ?? new Error('connection closed'), undefined);
      } else {
        const owner = s.owner;
        s.owner = undefined;
        owner?.onUpstreamClose(s.lastError);
      }
      // A slot is free: a waiter may connect now.
      const waiter = this.waiters.shift();
      if (waiter) this.acquire(waiter);
    });
  }
}
