import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestMemory } from './request-memory.js';

/** What a connection reading raw HTTP/1.1 does with its socket's events. */
export interface SocketHandlers {
  data(chunk: Buffer): void;
  drain(): void;
  timeout(): void;
  close(): void;
}

/**
 * Bytes a connection holds of requests not yet being answered, past which it stops reading until
 * they are: a client that pipelines requests and never reads the answers made a server buffer
 * 1.2 GB. 256 KiB is hundreds of small pipelined requests, far more than pipelining gains from.
 */
export const PIPELINE_HIGH_WATER_BYTES = 256 * 1024;

/**
 * A socket read by hand (the fast paths of the server and the gateway): its listeners, and the
 * bytes read and not used yet, joined only when a whole request may be there (no O(n²) copies).
 * Held bytes count against the server's RequestMemory. `detach` gives the socket back, with its
 * unused bytes, to be handed to node:http.
 */
export class SocketInput {
  private parts: Buffer[] = [];
  /** Bytes read and not used yet. */
  size = 0;
  /** Reading is paused (backpressure), see `pause`. */
  paused = false;

  constructor(
    readonly socket: Socket,
    private readonly handlers: SocketHandlers,
    idleTimeoutMs: number,
    private readonly memory: RequestMemory,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs);
    socket.on('data', handlers.data);
    socket.on('drain', handlers.drain);
    socket.on('timeout', handlers.timeout);
    socket.on('error', noop);
    socket.once('close', handlers.close);
  }

  /** Keeps `chunk`; false when the server's request memory is over its limit now. */
  push(chunk: Buffer): boolean {
    this.parts.push(chunk);
    this.size += chunk.length;
    return this.memory.add(chunk.length);
  }

  /**
   * The unused bytes as one buffer. Pieces joined here are placed so that byte `alignAt` (when
   * given) sits on an 8-byte boundary: tensor data there is then read in place, not copied again.
   */
  take(alignAt?: number): Buffer {
    if (this.parts.length > 1) {
      if (alignAt === undefined) this.parts = [Buffer.concat(this.parts, this.size)];
      else {
        const room = Buffer.allocUnsafe(this.size + 7);
        const start = (8 - ((room.byteOffset + alignAt) % 8)) % 8;
        let offset = start;
        for (const part of this.parts) {
          room.set(part, offset);
          offset += part.length;
        }
        this.parts = [room.subarray(start, start + this.size)];
      }
    }
    return this.parts[0]!;
  }

  /** Marks the first `used` bytes of `buf` (what `take` returned) as used. */
  consume(buf: Buffer, used: number): void {
    this.parts = buf.length > used ? [buf.subarray(used)] : [];
    this.memory.release(this.size - (buf.length - used));
    this.size = buf.length - used;
  }

  /** Stops reading the socket until `resume` (the answers are not being read). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Drops the unused bytes (the connection closed or is refused). */
  drop(): void {
    this.memory.release(this.size);
    this.parts = [];
    this.size = 0;
  }

  /** Removes the listeners and returns the unused bytes: the socket belongs to the caller now. */
  detach(): Buffer | undefined {
    const s = this.socket;
    s.off('data', this.handlers.data);
    s.off('drain', this.handlers.drain);
    s.off('timeout', this.handlers.timeout);
    s.off('error', noop);
    s.off('close', this.handlers.close);
    s.setTimeout(0);
    this.resume();
    const buffered = this.size > 0 ? this.take() : undefined;
    this.drop();
    return buffered;
  }
}

/**
 * Gives a socket read by hand to a node:http server that never listens itself: as a new
 * connection, then the bytes already read from it (node:http reads the rest from the socket).
 */
export function handOver(server: Server, socket: Socket, buffered: Buffer | undefined): void {
  server.emit('connection', socket);
  if (buffered) socket.emit('data', buffered);
}

function noop(): void {}
