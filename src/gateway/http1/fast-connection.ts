import type { Socket } from 'node:net';
import { InvalidRequestError, type Random } from '../../core/index.js';
import { hash32, shouldMirror, splitTraffic } from '../../lb/index.js';
import { RawConnection, type RequestMemory } from '../../protocol/http1/index.js';
import type { ProxyContext } from '../proxy/context.js';
import { pathFor } from '../proxy/front.js';
import { mirrorRequest } from '../proxy/mirror-call.js';
import type { RoutingTable } from '../routing/routing-table.js';
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

/**
 * A client connection on the fast path: reads request heads straight from the socket, routes plain
 * HTTP/1.1 requests with small bodies to a service and runs them one after the other as FastCalls.
 * The first request it does not handle (admin API, gateway endpoints, no service, chunked or large
 * bodies, Expect, Upgrade, HTTP/1.0…) hands the whole connection to the complete node:http path.
 */
export class FastConnection extends RawConnection implements FastClient {
  private call: FastCall | undefined;

  constructor(
    socket: Socket,
    private readonly deps: FastDeps,
  ) {
    super(socket, deps.memory);
  }

  protected get answering(): boolean {
    return this.call !== undefined;
  }

  protected now(): number {
    return this.deps.ctx.clock.now();
  }

  protected gone(): void {
    this.deps.gone(this);
  }

  protected passOn(socket: Socket, buffered: Buffer | undefined): void {
    this.deps.handoff(socket, buffered);
  }

  protected override clientDrained(): void {
    // Read on from the replica: the call paused its socket while the client was slow.
    this.call?.clientDrained();
  }

  protected override clientClosed(): void {
    this.call?.clientClosed();
    this.call = undefined;
  }

  callDone(keepAlive: boolean): void {
    this.call = undefined;
    this.deps.settled();
    this.answered(keepAlive, !this.socket.writableNeedDrain);
  }

  /** Parses and starts the next request in the buffer, if it is complete. */
  protected next(): void {
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
    this.headRead();
    if (head.contentLength > this.deps.maxBufferBytes) {
      this.handoff();
      return;
    }
    const total = head.headEnd + head.contentLength;
    if (buf.length < total) {
      this.awaitBody(total, buf.length);
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
}

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
