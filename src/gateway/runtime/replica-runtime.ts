import { Pool } from 'undici';
import type { BalancerReplica } from '../../lb/index.js';
import { hash32 } from '../../lb/index.js';
import { type Address, formatAddress } from '../../spec/index.js';
import { connectOptions, type IdentifiedClientTls } from '../../tls/index.js';
import { type HealthRecord, newHealthRecord } from '../health/health-state.js';
import { SocketPool } from '../http1/socket-pool.js';

/** A replica's addresses: HTTP, and gRPC when it serves it. */
export interface ReplicaAddress {
  readonly http: Address;
  readonly grpc?: Address | undefined;
  /** Speak TLS (optionally mTLS) to both addresses. */
  readonly tls?: IdentifiedClientTls | undefined;
}

/** Upstream pool settings shared by every replica. */
export interface UpstreamOptions {
  /** Keep-alive connections per replica (undici Pool `connections`). */
  readonly connectionsPerReplica: number;
  /** Idle keep-alive connections close after this long (milliseconds). */
  readonly keepAliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** Observes per-replica latency (bound once per replica by the metrics). */
export interface LatencyRecorder {
  observe(seconds: number): void;
}

/**
 * One replica at runtime: its keep-alive pool of upstream connections, its health, ejection state
 * and counters. Requests in flight keep a reference, so a replica removed from routing finishes
 * them before its pool closes.
 */
export class ReplicaRuntime implements BalancerReplica {
  readonly id: string;
  readonly hash: number;
  /** Tries in flight on this replica (kept by the balancer). */
  active = 0;
  /** undici pool: health checks, mirrors and connections served by the node:http path. */
  readonly pool: Pool;
  /** Raw keep-alive sockets of the fast path. */
  readonly sockets: SocketPool;
  private headers: Buffer | undefined;
  readonly health: HealthRecord = newHealthRecord();
  ejected = false;
  requests = 0;
  errors = 0;
  latency: LatencyRecorder | undefined;
  /** Set once the replica left routing; its pool closes when its last try ends. */
  retired = false;

  constructor(
    readonly address: ReplicaAddress,
    options: UpstreamOptions,
  ) {
    this.id = formatAddress(address.http);
    this.hash = hash32(this.id);
    const tls = address.tls ? connectOptions(address.tls, address.http.host) : undefined;
    this.pool = new Pool(`${tls ? 'https' : 'http'}://${this.id}`, {
      ...(tls ? { connect: tls } : {}),
      connections: options.connectionsPerReplica,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // Per-try and overall timeouts are the gateway's own; these only stop undici's defaults.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.sockets = new SocketPool({
      host: address.http.host,
      port: address.http.port,
      maxConnections: options.connectionsPerReplica,
      idleTimeoutMs: options.keepAliveTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      tls,
    });
  }

  /** The gateway's answer headers for this replica, as bytes (built once: a replica has one variant). */
  headerBytes(service: string, variant: string): Buffer {
    this.headers ??= Buffer.from(
      `x-flotilla-service: ${service}\r\nx-flotilla-variant: ${variant}\r\nx-flotilla-replica: ${this.id}\r\n`,
      'latin1',
    );
    return this.headers;
  }

  /** Takes no traffic until a health check passes (Envoy's healthy threshold, from unhealthy). */
  awaitFirstHealthCheck(): void {
    this.health.healthy = false;
    this.health.lastError = 'waiting for its first health check';
  }

  /** Fit to take traffic: healthy and not ejected. */
  get available(): boolean {
    return this.health.healthy && !this.ejected;
  }

  /** Closes the pool once requests in flight have finished (undici waits for them). */
  close(): Promise<void> {
    this.retired = true;
    this.sockets.close();
    return this.pool.close();
  }
}

/** Parses a `setReplicas` address list entry. */
export function replicaKey(a: ReplicaAddress): string {
  const key = a.grpc ? `${formatAddress(a.http)}|${formatAddress(a.grpc)}` : formatAddress(a.http);
  // Other TLS settings or certificate files (a SIGHUP after rotating them): a new replica and pools.
  return a.tls ? `${key}|tls:${a.tls.id}` : key;
}
