import { createServer, type Server, type Socket } from 'node:net';

/**
 * The first bytes of every HTTP/2 connection (RFC 9113 §3.4). A client with prior knowledge (gRPC
 * over cleartext, Knative's queue-proxy on a port named `h2c`) sends them before anything else;
 * no HTTP/1.1 request starts with them (`PRI` is no method anyone serves).
 */
export const HTTP2_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * What a connection's first bytes say: `http2` once the whole preface arrived, `http1` at the
 * first byte that differs from it, undefined while they agree so far. Pure.
 */
export function sniffPreface(first: Buffer): 'http1' | 'http2' | undefined {
  const n = Math.min(first.length, HTTP2_PREFACE.length);
  if (!first.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n))) return 'http1';
  return n === HTTP2_PREFACE.length ? 'http2' : undefined;
}

export interface SinglePortOptions {
  readonly host: string;
  /** 0 picks a free port; `listen` says which. */
  readonly port: number;
  /** A connection must have told its protocol this long after it opened (ms); else it is closed. */
  readonly sniffTimeoutMs: number;
}

/** Where a sniffed connection goes, its first bytes put back in front of the rest. */
export interface SinglePortHandlers {
  http1(socket: Socket): void;
  http2(socket: Socket): void;
}

/**
 * One port for HTTP/1.1 and HTTP/2 (`serve --port`): a Knative revision exposes one port, so
 * REST and gRPC share it. Each connection's first bytes are read until they match or leave the
 * HTTP/2 preface (at most 24 bytes, once per connection), put back, and the socket is handed
 * on. No TLS: in a cluster the mesh or the ingress terminates it.
 */
export class SinglePortListener {
  private readonly server: Server;
  private readonly sniffing = new Set<Socket>();

  constructor(
    private readonly options: SinglePortOptions,
    handlers: SinglePortHandlers,
  ) {
    this.server = createServer({ noDelay: true }, (socket) => {
      this.sniffing.add(socket);
      let first: Buffer = Buffer.alloc(0);
      const timer = setTimeout(() => socket.destroy(), options.sniffTimeoutMs);
      const release = (): void => {
        clearTimeout(timer);
        this.sniffing.delete(socket);
        socket.off('data', onData);
        socket.off('close', release);
      };
      const onData = (chunk: Buffer): void => {
        first = first.length === 0 ? chunk : Buffer.concat([first, chunk]);
        const protocol = sniffPreface(first);
        if (protocol === undefined) return;
        release();
        // Paused, so nothing is emitted before the new owner listens; node:http2 reads the
        // put-back bytes itself, an HTTP/1.1 reader on 'data' needs the stream flowing again.
        socket.pause();
        socket.unshift(first);
        if (protocol === 'http2') handlers.http2(socket);
        else {
          handlers.http1(socket);
          socket.resume();
        }
      };
      socket.on('data', onData);
      socket.on('close', release);
      socket.on('error', () => socket.destroy());
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** Stops accepting; connections that have not told their protocol yet are closed. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sniffing) socket.destroy();
    return closed;
  }
}
