import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Random } from '../core/index.js';
import {
  asFlotillaError,
  type Clock,
  ConfigError,
  InvalidRequestError,
  type Logger,
  NotFoundError,
  systemTimers,
  type Timers,
} from '../core/index.js';
import type { Balancer } from '../lb/index.js';
import { checkWeights } from '../lb/index.js';
import { CONNECTION_LIMIT_DEFAULTS, RequestMemory } from '../protocol/http1/index.js';
import { parseJsonBody } from '../protocol/oip-rest/index.js';
import { type Address, parsePaddleWeights, type ServiceFile, type ServiceSpec } from '../spec/index.js';
import type { ServerCertificates } from '../tls/index.js';
import { ADMIN_PREFIX, type AdminTarget, type AdminUi, handleAdmin } from './admin/admin-routes.js';
import { createDnsResolver, type DnsResolver } from './discovery/dns-resolver.js';
import { FrontDoor } from './front-door.js';
import { type GatewayState, snapshot } from './gateway-state.js';
import { GrpcFront } from './grpc/grpc-front.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { createFrontHandler } from './proxy/front.js';
import { CALL, type ResponseWithCall } from './proxy/proxy-call.js';
import { sendError, sendJson } from './proxy/replies.js';
import { RoutingTable } from './routing/routing-table.js';
import type { ReplicaAddress, ReplicaRuntime } from './runtime/replica-runtime.js';
import { ServiceRuntime } from './runtime/service-runtime.js';
import type { VariantRuntime } from './runtime/variant-runtime.js';
import {
  allStatisticsRefused,
  GATEWAY_METADATA,
  guardedIndex,
  repositoryChangeRefused,
} from './server-calls.js';

/** Gateway settings; defaults in GATEWAY_DEFAULTS. */
export interface GatewayOptions {
  readonly host: string;
  /** HTTP port; 0 picks a free one. */
  readonly port: number;
  /** gRPC (HTTP/2 cleartext) port; 0 picks a free one; undefined: no gRPC front. */
  readonly grpcPort?: number | undefined;
  /** Bearer token of the admin API; without one it answers 403. */
  readonly adminToken?: string | undefined;
  /** Bodies up to this many bytes are buffered so they can be retried or mirrored. */
  readonly maxBufferBytes?: number;
  /** Keep-alive connections per replica. */
  readonly connectionsPerReplica?: number;
  /**
   * Serve plain HTTP/1.1 requests on the raw-socket fast path (default true); false sends every
   * connection through the node:http path (slower, for comparison and as an escape hatch).
   */
  readonly fastPath?: boolean;
  /** Refuse `model:` and `command:` variants (`flotilla gateway` runs only static endpoints). */
  readonly staticOnly?: boolean;
  /** Serve the admin API under /_flotilla/ on the data port (default true; false when it has its own). */
  readonly adminOnDataPort?: boolean;
  /** Serve the HTTP and gRPC listeners over TLS with these certificates (reloaded on change). */
  readonly tls?: ServerCertificates | undefined;
  /** A request head must be complete this long after its first byte; else 408 (default 20 s). */
  readonly headerTimeoutMs?: number;
  /** A body gets this long plus 1 s per `bodyMinRate` bytes received; else 408 (default 20 s). */
  readonly bodyTimeoutMs?: number;
  /** Bytes per second a body must keep up (default 500). */
  readonly bodyMinRate?: number;
  /** Bytes of unfinished requests held over all client connections; past it 503 (default 512 MiB). */
  readonly requestMemoryBytes?: number;
}

/** What `flotilla up` adds to the admin API (the fleet implements it). */
export interface GatewayControl {
  status(): unknown;
  /** `force`: above the variant's max or the machine's capacity, pin the most allowed instead of refusing. */
  scale(service: string, variant: string, replicas: number, force: boolean): unknown;
  rollout(service: string, action: 'start' | 'promote' | 'rollback'): Promise<unknown>;
  /** Weights were changed by hand through the admin API. */
  weightsSet(service: string): void;
}

/** The defaults of GatewayOptions, in one place. */
export const GATEWAY_DEFAULTS = Object.freeze({
  ...CONNECTION_LIMIT_DEFAULTS,
  maxBufferBytes: 4 * 1024 * 1024,
  connectionsPerReplica: 128,
  keepAliveTimeoutMs: 60_000,
  connectTimeoutMs: 2_000,
});

/** What the gateway is built with. */
export interface GatewayDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Builds a balancer of a policy (the cli passes the implementations). */
  readonly balancer: (policy: ServiceSpec['balancer']) => Balancer<ReplicaRuntime>;
  /** Reads the service file again (admin reload, SIGHUP). */
  readonly load?: () => Promise<ServiceFile>;
  /** Resolves `dns://` endpoints (default: the system's DNS servers, built on first use). */
  readonly dnsResolver?: () => DnsResolver;
  /** Timers of DNS re-resolution (default: the process's). */
  readonly timers?: Timers;
}

/**
 * The front door: routes HTTP requests to services, variants and replicas, and exposes the typed
 * surface `flotilla up` drives — `setReplicas` as replicas start and stop, `setWeights` for
 * rollouts, `state()` for the autoscaler — plus the admin API over HTTP.
 */
export class Gateway implements AdminTarget {
  private services: ServiceRuntime[] = [];
  private table = new RoutingTable<ServiceRuntime>([]);
  /** The listening socket and the fast and node:http paths behind it. */
  private readonly door: FrontDoor;
  private readonly gatewayMetrics: GatewayMetrics;
  private file: ServiceFile;
  private readonly grpc: GrpcFront | undefined;
  private control: GatewayControl | undefined;
  private resolver: DnsResolver | undefined;
  private ui: AdminUi | undefined;

  constructor(
    file: ServiceFile,
    private readonly options: GatewayOptions,
    private readonly deps: GatewayDeps,
  ) {
    this.file = file;
    this.gatewayMetrics = new GatewayMetrics({ variants: () => this.allVariants() });
    this.apply(file);
    const ctx = {
      clock: deps.clock,
      draining: () => this.door.isDraining,
      retried: (service: string) => this.gatewayMetrics.retried(service),
    };
    const maxBufferBytes = options.maxBufferBytes ?? GATEWAY_DEFAULTS.maxBufferBytes;
    const d = GATEWAY_DEFAULTS;
    const limits = {
      headerTimeoutMs: options.headerTimeoutMs ?? d.headerTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs ?? d.bodyTimeoutMs,
      bodyMinRate: options.bodyMinRate ?? d.bodyMinRate,
      requestMemoryBytes: options.requestMemoryBytes ?? d.requestMemoryBytes,
    };
    const memory = new RequestMemory(limits.requestMemoryBytes);
    const front = createFrontHandler({
      ctx,
      random: deps.random,
      table: () => this.table,
      maxBufferBytes,
      memory,
      own: (req, res, path) => this.own(req, res, path),
    });
    this.door = new FrontDoor({
      fast: { ctx, random: deps.random, table: () => this.table, maxBufferBytes },
      limits,
      memory,
      fastPath: options.fastPath ?? true,
      tls: options.tls,
      handle: (req, res) => {
        res.once('close', requestClosed);
        if (options.adminOnDataPort !== false && req.url?.startsWith(ADMIN_PREFIX))
          void handleAdmin(req, res, this, options.adminToken, deps.logger, this.ui);
        else front(req, res);
      },
    });
    this.grpc =
      options.grpcPort === undefined
        ? undefined
        : new GrpcFront({
            clock: deps.clock,
            random: deps.random,
            table: () => this.table,
            draining: () => this.door.isDraining,
            ready: () => this.isReady(),
            retried: (service) => this.gatewayMetrics.retried(service),
            tls: options.tls,
            adminToken: options.adminToken,
          });
  }

  /** The gRPC front's address once listening (undefined without `grpcPort`). */
  grpcAddress: AddressInfo | undefined;

  /** Starts listening; resolves with the address. */
  async listen(): Promise<AddressInfo> {
    const address = await this.door.listen(this.options.port, this.options.host);
    if (this.grpc) this.grpcAddress = await this.grpc.listen(this.options.grpcPort ?? 0, this.options.host);
    for (const s of this.services) s.checkNow();
    return address;
  }

  /** Stops accepting, finishes every request in flight, then closes upstream pools. */
  async close(): Promise<void> {
    await Promise.all([this.door.close(), this.grpc?.close()]);
    await Promise.all(this.services.map((s) => s.close()));
  }

  /**
   * Replaces a variant's replicas (as `flotilla up` starts and stops them); others keep state.
   * Resolves once the replicas that left have finished their requests in flight.
   */
  setReplicas(
    service: string,
    variant: string,
    addresses: readonly (Address | ReplicaAddress)[],
  ): Promise<void> {
    return this.variant(service, variant).setReplicas(addresses.map((a) => ('http' in a ? a : { http: a })));
  }

  /** A variant's runtime, for `flotilla up`'s control plane (activator, load readings). */
  managedVariant(service: string, variant: string): VariantRuntime {
    return this.variant(service, variant);
  }

  /** Gives the admin API `flotilla up`'s controls (status, scale, rollout). */
  attachControl(control: GatewayControl): void {
    this.control = control;
  }

  /** Serves the dashboard on the admin API of the data port (when the admin API is there). */
  attachUi(ui: AdminUi): void {
    this.ui = ui;
  }

  status(): unknown {
    return this.needControl('status').status();
  }

  scale(service: string, variant: string, replicas: number, force = false): unknown {
    return this.needControl('scale').scale(service, variant, replicas, force);
  }

  rollout(service: string, action: 'start' | 'promote' | 'rollback'): Promise<unknown> {
    return this.needControl('rollout').rollout(service, action);
  }

  private needControl(what: string): GatewayControl {
    if (!this.control)
      throw new NotFoundError(
        'FLT_ROUTE_NOT_FOUND',
        `${what} is part of flotilla up's admin API; this gateway runs static endpoints only (GET ${ADMIN_PREFIX}state shows them)`,
      );
    return this.control;
  }

  /**
   * Changes a service's weights at once (validated); requests in flight are not touched. A change
   * by hand (`by: 'admin'`) ends any progressive rollout of the service.
   */
  setWeights(
    service: string,
    weights: Readonly<Record<string, number>> | string,
    by: 'admin' | 'fleet' = 'admin',
  ): void {
    const s = this.service(service);
    const tags = s.variants.map((v) => v.tag);
    let map: Map<string, number>;
    try {
      map =
        typeof weights === 'string'
          ? new Map(parsePaddleWeights(weights, tags.length).map((w, i) => [tags[i]!, w]))
          : new Map(Object.entries(weights));
    } catch (err) {
      throw new InvalidRequestError('FLT_INVALID_FIELD', `weights: ${(err as Error).message}`);
    }
    const problem = checkWeights(tags, map);
    if (problem) throw new InvalidRequestError('FLT_INVALID_FIELD', `weights: ${problem}`);
    for (const v of s.variants) v.weight = map.get(v.tag)!;
    if (by === 'admin') this.control?.weightsSet(service);
  }

  /** Applies a new service file (or re-reads it): services and replicas that stay keep their state. */
  async reload(file?: ServiceFile): Promise<void> {
    const next = file ?? (await this.deps.load?.());
    if (!next)
      throw new InvalidRequestError('FLT_INVALID_FIELD', 'this gateway has no service file to reload');
    this.apply(next);
    this.deps.logger.info('service file reloaded', {
      file: next.file,
      services: this.table.names().join(','),
    });
  }

  /** Live state of every service, variant and replica. */
  state(): GatewayState {
    return snapshot(this.services, this.deps.clock.now());
  }

  routes(): unknown {
    return {
      file: this.file.file,
      services: this.services.map((s) => ({
        name: s.name,
        hosts: s.hosts,
        path: s.path,
        balancer: s.spec.balancer,
        mirror: s.spec.mirror,
        variants: s.variants.map((v) => ({
          tag: v.tag,
          weight: v.weight,
          modelName: v.spec.modelName,
          modelVersion: v.spec.modelVersion,
          runs: v.spec.runs.kind,
          replicas: v.replicas.map((r) => r.id),
        })),
      })),
    };
  }

  metrics(): Promise<{ contentType: string; body: string }> {
    return this.gatewayMetrics.text();
  }

  private apply(file: ServiceFile): void {
    if (this.options.staticOnly) checkStaticOnly(file);
    const byName = new Map(this.services.map((s) => [s.name, s]));
    const next = file.services.map((spec) => {
      const existing = byName.get(spec.name);
      if (existing) {
        byName.delete(spec.name);
        void existing.apply(spec);
        return existing;
      }
      return new ServiceRuntime(spec, {
        clock: this.deps.clock,
        logger: this.deps.logger,
        upstream: {
          connectionsPerReplica: this.options.connectionsPerReplica ?? GATEWAY_DEFAULTS.connectionsPerReplica,
          keepAliveTimeoutMs: GATEWAY_DEFAULTS.keepAliveTimeoutMs,
          connectTimeoutMs: GATEWAY_DEFAULTS.connectTimeoutMs,
        },
        balancers: (s) => () => this.deps.balancer(s.balancer),
        onReplica: (v, r, joined) => this.gatewayMetrics.replica(v, r, joined),
        discovery: {
          resolver: () => {
            this.resolver ??= this.deps.dnsResolver?.() ?? createDnsResolver();
            return this.resolver;
          },
          timers: this.deps.timers ?? systemTimers,
        },
      });
    });
    this.services = next;
    this.table = new RoutingTable(next);
    this.file = file;
    // Services gone from the file finish what they have in flight, then close their pools.
    for (const gone of byName.values()) void gone.close();
  }

  private *allVariants(): Iterable<VariantRuntime> {
    for (const s of this.services) yield* s.variants;
  }

  private service(name: string): ServiceRuntime {
    const s = this.table.get(name);
    if (!s) {
      throw new NotFoundError(
        'FLT_SERVICE_NOT_FOUND',
        `no service ${name}; known services: ${this.table.names().join(', ')}`,
      );
    }
    return s;
  }

  private variant(service: string, tag: string): VariantRuntime {
    const s = this.service(service);
    const v = s.variant(tag);
    if (!v) {
      throw new NotFoundError(
        'FLT_VARIANT_NOT_FOUND',
        `service ${service} has no variant ${tag}; variants: ${s.variants.map((x) => x.tag).join(', ')}`,
      );
    }
    return v;
  }

  /** Ready: not draining, and every service has an available replica in a variant with weight. */
  private isReady(): boolean {
    return (
      !this.door.isDraining &&
      this.services.every((s) => s.variants.some((v) => v.weight > 0 && v.replicas.some((r) => r.available)))
    );
  }

  /**
   * What the gateway answers itself when no service claims the path: health, and the server-level
   * calls of the Open Inference Protocol (server-calls.ts says why each answer is the gateway's).
   */
  private own(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && path === '/v2/health/live') {
      sendJson(res, this.door.isDraining ? 503 : 200, { live: !this.door.isDraining });
      return true;
    }
    if (get && path === '/v2/health/ready') {
      const ready = this.isReady();
      sendJson(res, ready ? 200 : 503, { ready });
      return true;
    }
    if (get && (path === '/v2' || path === '/v2/')) {
      sendJson(res, 200, GATEWAY_METADATA);
      return true;
    }
    // Reached only when no service is named "stats" (a service claims its own path first).
    if (get && path === '/v2/models/stats') {
      sendError(res, allStatisticsRefused());
      return true;
    }
    if (req.method !== 'POST') return false;
    if (path === '/v2/repository/index') {
      void this.repositoryIndex(req, res);
      return true;
    }
    const change = REPOSITORY_CHANGE.exec(path);
    if (change) {
      req.resume();
      sendError(res, repositoryChangeRefused(change[2] as 'load' | 'unload', decodeURIComponent(change[1]!)));
      return true;
    }
    return false;
  }

  /** `POST /v2/repository/index` (`{"ready": true}` optional), behind the admin token. */
  private async repositoryIndex(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readSmallBody(req, 64 * 1024);
      const raw = body.byteLength > 0 ? parseJsonBody(body) : {};
      const readyOnly =
        typeof raw === 'object' && raw !== null && (raw as { ready?: unknown }).ready === true;
      sendJson(
        res,
        200,
        guardedIndex(req.headers.authorization, this.options.adminToken, this.services, readyOnly),
      );
    } catch (err) {
      sendError(res, asFlotillaError(err));
    }
  }
}

/** `/v2/repository/models/{model}/load` and `/unload`. */
const REPOSITORY_CHANGE = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

/** A body of at most `limit` bytes (larger: FLT_BODY_TOO_LARGE). */
function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new InvalidRequestError('FLT_BODY_TOO_LARGE', `request body larger than ${limit} bytes`));
      } else chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The one 'close' listener of a node:http-path response: `this` is the response (client gone). */
function requestClosed(this: ResponseWithCall): void {
  this[CALL]?.clientClosed();
}

/** `flotilla gateway` proxies to static endpoints only: model and command variants need `flotilla up`. */
export function checkStaticOnly(file: ServiceFile): void {
  for (const s of file.services) {
    s.variants.forEach((v, i) => {
      if (v.runs.kind !== 'endpoints') {
        const what = v.runs.kind === 'model' ? 'runs a model' : 'runs a command';
        throw new ConfigError(
          file.file,
          `services.${s.name}.variants[${i}]: variant \`${v.tag}\` ${what}: start it with \`flotilla up\` (\`flotilla gateway\` routes to endpoints only)`,
        );
      }
    });
  }
}
