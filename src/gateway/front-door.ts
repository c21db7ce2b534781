import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { InvalidRequestError } from '../core/index.js';
import {
  applyFallbackDeadlines,
  type ConnectionLimits,
  DeadlineSweeper,
  handOver,
  type RequestMemory,
  rawHeadProblem,
  refuse,
  type SweepTimers,
} from '../protocol/http1/index.js';
import { createListener, type ServerCertificates } from '../tls/index.js';
import { FastConnection, type FastDeps } from './http1/fast-connection.js';

/** What the front door needs: the fast path's parts and the node:http path's handler. */
export interface FrontDoorDeps {
  readonly fast: Omit<FastDeps, 'handoff' | 'gone' | 'settled' | 'memory'>;
  /** Deadlines and the request-memory limit of client connections. */
  readonly limits: ConnectionLimits;
  /** Unfinished request bytes on both paths (the node:http path's buffered bodies count too). */
  readonly memory: RequestMemory;
  /** Timers of the deadline sweeper (tests drive it by hand); real ones by default. */
  readonly timers?: SweepTimers;
  /** The node:http path (admin API, the gateway's own endpoints, everything the fast path hands over). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** False sends every connection straight to the node:http path. */
  readonly fastPath: boolean;
  /** Listen over TLS with these certificates (reloaded when their files change). */
  readonly tls?: ServerCertificates | undefined;
}

/**
 * The listening socket and the two paths behind it. Every connection starts on the fast path; the
 * first request it does not take hands the connection to a node:http server that never listens
 * itself (`emit('connection')`), so the front door keeps count of those connections and their
 * requests to drain them.
 */
export class FrontDoor {
  private readonly listener: NetServer;
  private readonly server: Server;
  private readonly fast = new Set<FastConnection>();
  /** Connections on the node:http path and their requests in flight. */
  private readonly handedOff = new Map<Socket, number>();
  private draining = false;
  private drained: (() => void) | undefined;
  /** The header and body deadlines of fast-path connections. */
  private readonly sweeper: DeadlineSweeper;

  constructor(deps: FrontDoorDeps) {
    const clock = deps.fast.ctx.clock;
    this.sweeper = new DeadlineSweeper(deps.limits, () => clock.now(), deps.timers);
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      const socket = req.socket;
      const problem = rawHeadProblem(req.rawHeaders);
      if (problem !== undefined) {
        // llhttp let it through (two Host lines): routing by one while a backend reads the other
        // is request smuggling, so it is refused before any routing.
        refuse(socket, new InvalidRequestError('FLT_INVALID_HTTP', `bad request head: ${problem}`));
        return;
      }
      this.handedOff.set(socket, (this.handedOff.get(socket) ?? 0) + 1);
      res.once('close', () => {
        const n = (this.handedOff.get(socket) ?? 1) - 1;
        if (this.handedOff.has(socket)) this.handedOff.set(socket, n);
        this.check();
      });
      deps.handle(req, res);
    });
    applyFallbackDeadlines(this.server, deps.limits);
    const fastDeps: FastDeps = {
      ...deps.fast,
      memory: deps.memory,
      handoff: (socket, buffered) => this.handoff(socket, buffered),
      gone: (conn) => {
        this.fast.delete(conn);
        this.sweeper.delete(conn);
        this.check();
      },
      settled: () => this.check(),
    };
    this.listener = createListener(deps.tls, (socket) => {
      if (!deps.fastPath) this.handoff(socket, undefined);
      else {
        const conn = new FastConnection(socket, fastDeps);
        this.fast.add(conn);
        this.sweeper.add(conn);
      }
    });
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, host, () => {
        this.listener.off('error', reject);
        resolve();
      });
    });
    return this.listener.address() as AddressInfo;
  }

  /** True once close() began: answers say `connection: close`. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stops accepting, lets every request in flight on either path finish, then closes the
   * connections that are left (idle keep-alive ones at once).
   */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    this.check();
    await done;
    await closed;
  }

  private handoff(socket: Socket, buffered: Buffer | undefined): void {
    this.handedOff.set(socket, 0);
    socket.once('close', () => {
      this.handedOff.delete(socket);
      this.check();
    });
    handOver(this.server, socket, buffered);
  }

  /** While draining: once nothing is in flight on either path, closes what is left. */
  private check(): void {
    if (!this.draining || !this.drained) return;
    for (const c of this.fast) if (!c.idle) return;
    for (const busy of this.handedOff.values()) if (busy > 0) return;
    for (const c of this.fast) closeSocket(c.socket);
    for (const s of this.handedOff.keys()) closeSocket(s);
    this.sweeper.close();
    const resolve = this.drained;
    this.drained = undefined;
    resolve();
  }
}

/** Closes a socket once what was written to it has gone out. */
function closeSocket(s: Socket): void {
  if (s.writableLength === 0) s.destroy();
  else s.end(() => s.destroy());
}
