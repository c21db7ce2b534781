import type { Socket } from 'node:net';
import { FlotillaError, InvalidRequestError, type Random, UnavailableError } from '../../core/index.js';
import {
  PIPELINE_HIGH_WATER_BYTES,
  type ReadProgress,
  type RequestMemory,
  refuse,
  SocketInput,
  type Watched,
} from '../../protocol/http1/index.js';
import type { ProxyContext } from '../proxy/context.js';
import { pathFor } from '../proxy/front.js';
import { mirrorRequest } from '../proxy/mirror-call.js';
import { hash32 } from '../routing/hash.js';
import type { RoutingTable } from '../routing/routing-table.js';
import { shouldMirror, splitTraffic } from '../routing/traffic-split.js';
import type { ServiceRuntime } from '../runtime/service-runtime.js';
import { FastCall, type FastClient } from './fast-call.js';
import { parseRequestHead, type RequestHead } from './request-head.js';

/** What a fast-path connection needs from the gateway. */
export interface FastDeps {
  readonly ctx: ProxyContext;
  readonly random: Random;
  table(): RoutingTable<ServiceRuntime>;
  /** Requests with larger bodies go to the node:http path, which streams them. */
  readonly maxBufferBytes: number;
  /** Unfinished request bytes over every connection, against the gateway-wide limit. */
  readonly memory: RequestMemory;
  /** Hands the connection to the node:http path with the bytes read and not yet used. */
  handoff(socket: Socket, buffered: Buffer | undefined): void;
  /** The connection closed or was handed off (the drain counts connections). */
  gone(conn: FastConnection): void;
  /** A request finished (the drain waits for the last one). */
  settled(): void;
}

const MAX_HEAD_BYTES = 64 * 1024;
const IDLE_TIMEOUT_MS = 65_000;

/**
 * A client connection on the fast path: reads request heads straight from the socket, routes plain
 * HTTP/1.1 requests with small bodies to a service and runs them one after the other as FastCalls.
 * The first request it does not handle (admin API, gateway endpoints, no service, chunked or large
 * bodies, Expect, Upgrade, HTTP/1.0…) hands the whole connection to the complete node:http path.
 */
export class FastConnection implements FastClient, Watched {
  private readonly input: SocketInput;
  /** Bytes the request being read needs in all (0: its head is not complete yet). */
  private need = 0;
  private call: FastCall | undefined;
  private ended = false;
  /** The client is not reading its answers: no more requests are read until it does. */
  private waitingDrain = false;
  /** When the first byte of the head being read came (-1: none is being read). */
  private headSince = -1;
  /** When the body being read began, and how many of its bytes were here then. */
  private bodySince = 0;
  private bodyBase = 0;

  constructor(
    readonly socket: Socket,
    private readonly deps: FastDeps,
  ) {
    this.input = new SocketInput(
      socket,
      { data: this.onData, drain: this.onDrain, timeout: this.onTimeout, close: this.onClose },
      IDLE_TIMEOUT_MS,
      deps.memory,
    );
  }

  /** True while no request is in flight or partly read: the drain may close it at once. */
  get idle(): boolean {
    return this.call === undefined && this.input.size === 0;
  }

  /** Ends the connection after the request in flight (draining). */
  endSoon(): void {
    if (this.idle) this.socket.destroy();
  }

  callDone(keepAlive: boolean): void {
    this.call = undefined;
    this.deps.settled();
    if (!keepAlive) {
      this.ended = true;
      this.input.drop();
      this.socket.end();
      return;
    }
    if (this.socket.writableNeedDrain) {
      // Answers pile up unread (a client pipelining and never reading made the gateway hold
      // 650–770 MB): the next request waits until the client has read this one.
      this.waitingDrain = true;
      this.input.pause();
      return;
    }
    if (this.input.size > 0) this.readOn();
    this.readMore();
  }

  /**
   * Reads on unless pipelined requests past the high-water mark wait behind the call in flight
   * (resuming at each answer would let them grow by a read per request).
   */
  private readMore(): void {
    if (this.ended || this.waitingDrain) return;
    if (!this.call || this.input.size <= PIPELINE_HIGH_WATER_BYTES) this.input.resume();
  }

  readProgress(): ReadProgress {
    if (this.call || this.ended || this.waitingDrain) return IDLE;
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

  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    if (this.headSince < 0 && this.need === 0 && !this.call) this.headSince = this.deps.ctx.clock.now();
    const within = this.input.push(chunk);
    if (this.call || this.waitingDrain) {
      // Requests come in faster than their answers go out: stop reading until they do.
      if (!within || this.input.size > PIPELINE_HIGH_WATER_BYTES) this.input.pause();
      return;
    }
    if (!within) {
      this.refuse(
        new UnavailableError(
          'FLT_OVERLOADED',
          `unfinished requests hold ${this.deps.memory.held} bytes, over the limit of ${this.deps.memory.limitBytes} (--max-request-memory)`,
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
    this.call?.clientDrained();
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    if (!this.call && this.input.size > 0) this.readOn();
    this.readMore();
  };

  private readonly onTimeout = (): void => {
    // Nothing received for the idle timeout: a request begun and never finished is abandoned
    // too (a slow client must not hold a socket forever). One being answered is left alone.
    if (this.call === undefined) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.input.drop();
    this.call?.clientClosed();
    this.call = undefined;
    this.deps.gone(this);
  };

  /** Bytes of the next request were here while the last was answered: its head's clock starts now. */
  private readOn(): void {
    this.headSince = this.deps.ctx.clock.now();
    this.next();
  }

  /** Answers `err` and closes without reading the rest of the request. */
  private refuse(err: FlotillaError, headers?: Readonly<Record<string, string>>): void {
    this.ended = true;
    this.input.drop();
    refuse(this.socket, err, headers);
  }

  /** Parses and starts the next request in the buffer, if it is complete. */
  private next(): void {
    const buf = this.input.take();
    const parsed = parseRequestHead(buf, MAX_HEAD_BYTES);
    if (parsed.kind === 'incomplete') return;
    if (parsed.kind === 'unsupported') {
      this.handoff();
      return;
    }
    if (parsed.kind === 'invalid') {
      // Forwarding it could let a backend read a request the gateway never saw (smuggling).
      this.refuse(new InvalidRequestError('FLT_INVALID_HTTP', `bad request head: ${parsed.reason}`));
      return;
    }
    const head = parsed.head;
    this.headSince = -1;
    if (head.contentLength > this.deps.maxBufferBytes) {
      this.handoff();
      return;
    }
    const total = head.headEnd + head.contentLength;
    if (buf.length < total) {
      if (this.need === 0) {
        this.bodySince = this.deps.ctx.clock.now();
        this.bodyBase = buf.length;
      }
      this.need = total;
      return;
    }
    this.need = 0;
    const started = this.deps.ctx.clock.now();
    const q = head.target.indexOf('?');
    const path = q < 0 ? head.target : head.target.slice(0, q);
    const match = this.deps.table().route(head.host, path);
    if (!match) {
      this.handoff();
      return;
    }
    const service = match.service;
    const split = splitTraffic(
      service.variants,
      { forcedTag: head.variant, keyHash: head.key === undefined ? undefined : hash32(head.key) },
      this.deps.random,
    );
    // Unknown tags and weightless services get their error answers from the node:http path.
    if (split.kind !== 'variant') {
      this.handoff();
      return;
    }
    const variant = split.variant;
    const query = q < 0 ? '' : head.target.slice(q);
    const upstreamPath = pathFor(match, variant);
    const request = requestBytes(buf, head, total, upstreamPath === path ? undefined : upstreamPath + query);
    this.input.consume(buf, total);
    const mirror = service.spec.mirror;
    if (mirror && mirror.variant !== variant.tag && shouldMirror(mirror.percent, this.deps.random)) {
      const target = service.variant(mirror.variant);
      if (target) {
        mirrorRequest(
          target,
          {
            method: head.method,
            path: pathFor(match, target) + query,
            headers: headerPairs(buf, head),
            body: head.contentLength > 0 ? buf.subarray(head.headEnd, total) : null,
            timeoutMs: service.spec.timeouts.perTryMs,
          },
          this.deps.ctx.clock,
        );
      }
    }
    this.call = new FastCall(
      this,
      this.deps.ctx,
      service,
      variant,
      head.method,
      request,
      started,
      head.close,
    );
    this.call.start();
  }

  private handoff(): void {
    const buffered = this.input.detach();
    this.ended = true;
    this.deps.gone(this);
    this.deps.handoff(this.socket, buffered);
  }
}

const IDLE: ReadProgress = { kind: 'idle' };

/** The bytes to send upstream: the request as received, or with a new target and no hop-by-hop lines. */
function requestBytes(buf: Buffer, head: RequestHead, total: number, target: string | undefined): Buffer {
  if (target === undefined && head.drop.length === 0) return buf.subarray(0, total);
  const parts: Buffer[] = [
    target === undefined
      ? buf.subarray(0, head.headersStart)
      : Buffer.from(`${head.method} ${target} HTTP/1.1\r\n`, 'latin1'),
  ];
  let at = head.headersStart;
  for (let i = 0; i < head.drop.length; i += 2) {
    if (head.drop[i]! > at) parts.push(buf.subarray(at, head.drop[i]!));
    at = head.drop[i + 1]!;
  }
  parts.push(buf.subarray(at, total));
  return Buffer.concat(parts);
}

/** Header lines as `[name, value, …]` (for a mirrored copy sent through undici). */
function headerPairs(buf: Buffer, head: RequestHead): string[] {
  const out: string[] = [];
  const lines = buf.toString('latin1', head.headersStart, head.headEnd - 4).split('\r\n');
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    const lower = name.toLowerCase();
    if (
      lower === 'connection' ||
      lower === 'keep-alive' ||
      lower === 'te' ||
      lower === 'trailer' ||
      lower === 'proxy-connection'
    )
      continue;
    out.push(name, line.slice(colon + 1).trim());
  }
  return out;
}
