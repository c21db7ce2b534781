import type { Socket } from 'node:net';
import { FlotillaError, UnavailableError } from '../../core/index.js';
import type { ReadProgress, Watched } from './read-deadlines.js';
import { refuse } from './refuse.js';
import type { RequestMemory } from './request-memory.js';
import { PIPELINE_HIGH_WATER_BYTES, SocketInput } from './socket-input.js';

/** Nothing received for this long ends a connection with no request in flight (as node:http's 65 s). */
const IDLE_TIMEOUT_MS = 65_000;
const IDLE: ReadProgress = { kind: 'idle' };

/**
 * The reading side of a client connection served without node:http (the server's and the
 * gateway's fast paths): the socket's bytes, the read deadlines' clocks, the request-memory bound,
 * backpressure (no reading while answers are unread or pipelined requests pile up), refusals and
 * the hand-over to node:http. A subclass parses and answers requests (`next`) and says when one is
 * being answered; both fast paths had written all of this twice.
 */
export abstract class RawConnection implements Watched {
  protected readonly input: SocketInput;
  /** Bytes the request being read needs in all (0: its head is not complete yet). */
  protected need = 0;
  protected ended = false;
  /** The client is not reading its answers: no more requests are read until it does. */
  private waitingDrain = false;
  /** When the first byte of the head being read came (-1: none is being read). */
  private headSince = -1;
  /** When the body being read began, and how many of its bytes were here then. */
  private bodySince = 0;
  private bodyBase = 0;

  constructor(
    readonly socket: Socket,
    private readonly memory: RequestMemory,
  ) {
    this.input = new SocketInput(
      socket,
      { data: this.onData, drain: this.onDrain, timeout: this.onTimeout, close: this.onClose },
      IDLE_TIMEOUT_MS,
      memory,
    );
  }

  /** True while a request is being answered. */
  protected abstract get answering(): boolean;
  /** Parses the next request in the buffer and, once it is complete, starts answering it. */
  protected abstract next(): void;
  /** Milliseconds, for the read deadlines. */
  protected abstract now(): number;
  /** Tells the owner the connection closed or was handed off. */
  protected abstract gone(): void;
  /** Gives the socket, with the bytes read and not used, to node:http. */
  protected abstract passOn(socket: Socket, buffered: Buffer | undefined): void;
  /** The client's socket drained (a call relaying an answer may read on from upstream). */
  protected clientDrained(): void {}
  /** The client's socket closed. */
  protected clientClosed(): void {}

  /** True while no request is in flight or partly read: the drain may close it at once. */
  get idle(): boolean {
    return !this.answering && this.input.size === 0;
  }

  /** Ends the connection if nothing is in flight (draining); otherwise after the answer. */
  endIfIdle(): void {
    if (this.idle) this.socket.destroy();
  }

  readProgress(): ReadProgress {
    if (this.answering || this.ended || this.waitingDrain) return IDLE;
    if (this.need > 0)
      return { kind: 'body', since: this.bodySince, received: this.input.size - this.bodyBase };
    if (this.headSince >= 0 && this.input.size > 0) return { kind: 'head', since: this.headSince };
    return IDLE;
  }

  overdue(which: 'head' | 'body'): void {
    this.refuse(
      new FlotillaError(
        'FLT_REQUEST_TIMEOUT',
        which === 'head'
          ? 'the request head did not arrive within the header deadline (--header-timeout)'
          : 'the request body fell behind the body deadline (--body-timeout)',
      ),
    );
  }

  /** A request head was read: its deadline is met. */
  protected headRead(): void {
    this.headSince = -1;
  }

  /** The request read so far needs `total` bytes, of which `have` are here: its body's clock runs. */
  protected awaitBody(total: number, have: number): void {
    if (this.need === 0) {
      this.bodySince = this.now();
      this.bodyBase = have;
    }
    this.need = total;
  }

  /**
   * An answer went out: close when it said so, stop reading while it sits unread (`flushed`
   * false: a client pipelining and never reading made the server hold 1.2 GB and the gateway
   * 650–770 MB), else go on with the next request.
   */
  protected answered(keepAlive: boolean, flushed: boolean): void {
    if (!keepAlive) {
      this.ended = true;
      this.input.drop();
      this.socket.end();
      return;
    }
    if (!flushed) {
      this.waitingDrain = true;
      this.input.pause();
      return;
    }
    if (this.input.size > 0) this.readOn();
    this.readMore();
  }

  /** Answers `err` and closes without reading the rest of the request. */
  protected refuse(err: FlotillaError, headers?: Readonly<Record<string, string>>): void {
    this.ended = true;
    this.input.drop();
    refuse(this.socket, err, headers);
  }

  /** Hands the connection to node:http with the bytes read and not used. */
  protected handoff(): void {
    const buffered = this.input.detach();
    this.ended = true;
    this.gone();
    this.passOn(this.socket, buffered);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    if (this.headSince < 0 && this.need === 0 && !this.answering) this.headSince = this.now();
    const within = this.input.push(chunk);
    if (this.answering || this.waitingDrain) {
      // Requests come in faster than their answers go out: stop reading until they do.
      if (!within || this.input.size > PIPELINE_HIGH_WATER_BYTES) this.input.pause();
      return;
    }
    if (!within) {
      const { memory } = this;
      this.refuse(
        new UnavailableError(
          'FLT_OVERLOADED',
          `unfinished requests hold ${memory.held} bytes, over the limit of ${memory.limitBytes} (--max-request-memory)`,
          { retryAfterS: 1 },
        ),
        { 'retry-after': '1' },
      );
      return;
    }
    if (this.input.size < this.need) return;
    this.next();
  };

  private readonly onDrain = (): void => {
    this.clientDrained();
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    if (!this.answering && this.input.size > 0) this.readOn();
    this.readMore();
  };

  private readonly onTimeout = (): void => {
    // Nothing received for the idle timeout: a request begun and never finished is abandoned
    // too (a slow client must not hold a socket forever). One being answered is left alone.
    if (!this.answering) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.input.drop();
    this.clientClosed();
    this.gone();
  };

  /** Bytes of the next request were here while the last was answered: its head's clock starts now. */
  private readOn(): void {
    this.headSince = this.now();
    this.next();
  }

  /**
   * Reads on unless pipelined requests past the high-water mark wait behind the one being answered
   * (resuming for each answer would let them grow by a read per request).
   */
  private readMore(): void {
    if (this.ended || this.waitingDrain) return;
    if (!this.answering || this.input.size <= PIPELINE_HIGH_WATER_BYTES) this.input.resume();
  }
}
