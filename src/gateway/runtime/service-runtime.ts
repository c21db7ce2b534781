import { isIPv6 } from 'node:net';
import type { Timers } from '../../core/index.js';
import { RetryBudget } from '../../lb/index.js';
import type { DnsEndpoints, ServiceSpec } from '../../spec/index.js';
import { type IdentifiedClientTls, upstreamTls } from '../../tls/index.js';
import { DnsDiscovery } from '../discovery/dns-discovery.js';
import type { DnsResolver } from '../discovery/dns-resolver.js';
import { HealthChecker } from '../health/health-checker.js';
import type { RoutableService } from '../routing/routing-table.js';
import { type ReplicaAddress, replicaKey } from './replica-runtime.js';
import { type VariantDeps, VariantRuntime } from './variant-runtime.js';

/** Builds the balancer a service's spec asks for (the gateway knows the implementations). */
export type BalancerFactory = (spec: ServiceSpec) => VariantDeps['newBalancer'];

/** What `dns://` endpoints are resolved with. */
export interface DiscoveryDeps {
  /** The resolver (built on first use: a gateway without `dns://` endpoints never makes one). */
  readonly resolver: () => DnsResolver;
  readonly timers: Timers;
}

/** A variant's discovery loop and the settings it was started with (a reload compares them). */
interface RunningDiscovery {
  readonly settings: string;
  readonly loop: DnsDiscovery;
}

/**
 * One service at runtime: its variants, retry budget and health checker. A reload applies a new
 * spec in place, so replicas that stay keep their connections, counts and health.
 */
export class ServiceRuntime implements RoutableService {
  readonly name: string;
  spec: ServiceSpec;
  variants: VariantRuntime[] = [];
  budget: RetryBudget;
  private checker: HealthChecker | undefined;
  private readonly discoveries = new Map<VariantRuntime, RunningDiscovery>();

  constructor(
    spec: ServiceSpec,
    private readonly deps: Omit<VariantDeps, 'newBalancer'> & {
      readonly balancers: BalancerFactory;
      readonly discovery: DiscoveryDeps;
    },
  ) {
    this.name = spec.name;
    this.spec = spec;
    this.budget = new RetryBudget(spec.retry);
    this.apply(spec);
  }

  get hosts(): readonly string[] {
    return this.spec.hosts;
  }

  get path(): string | undefined {
    return this.spec.path;
  }

  /** The variant of a tag. */
  variant(tag: string): VariantRuntime | undefined {
    return this.variants.find((v) => v.tag === tag);
  }

  /** Applies a spec: variants added, updated in place or removed (after their requests finish). */
  apply(spec: ServiceSpec): Promise<void> {
    const balancerChanged = spec.balancer !== this.spec.balancer;
    this.spec = spec;
    this.budget = new RetryBudget(spec.retry);
    const deps: VariantDeps = { ...this.deps, newBalancer: this.deps.balancers(spec) };
    const next: VariantRuntime[] = [];
    for (const vs of spec.variants) {
      let v = this.variant(vs.tag);
      if (v) v.apply(vs, spec.outlierDetection, balancerChanged);
      else v = new VariantRuntime(spec.name, vs, spec.outlierDetection, deps);
      if (vs.runs.kind === 'endpoints') {
        const grpc = vs.runs.grpcEndpoints;
        const tls = vs.runs.tls
          ? upstreamTls(vs.runs.tls, `services.${spec.name}.variants.${vs.tag}.tls`)
          : undefined;
        if (vs.runs.dns) this.discover(v, vs.runs.dns, tls);
        else {
          this.stopDiscovery(v);
          void v.setReplicas(vs.runs.endpoints.map((http, i) => ({ http, grpc: grpc?.[i], tls })));
        }
      } else this.stopDiscovery(v);
      next.push(v);
    }
    const removed = this.variants.filter((v) => !next.includes(v));
    for (const v of removed) this.stopDiscovery(v);
    this.variants = next;
    this.restartChecks();
    return Promise.all(removed.map((v) => v.close())).then(() => undefined);
  }

  /** A variant's DNS discovery, while its endpoints are `dns://`. */
  discoveryOf(v: VariantRuntime): DnsDiscovery | undefined {
    return this.discoveries.get(v)?.loop;
  }

  /**
   * Keeps a variant's replicas following the name's addresses. A reload with the same settings
   * keeps the running loop; other settings start a new one, whose first answer replaces the set.
   */
  private discover(v: VariantRuntime, dns: DnsEndpoints, tls: IdentifiedClientTls | undefined): void {
    const settings = JSON.stringify([dns, tls?.id]);
    if (this.discoveries.get(v)?.settings === settings) return;
    this.stopDiscovery(v);
    const address = (ip: string): ReplicaAddress => {
      const host = isIPv6(ip) ? `[${ip}]` : ip;
      return {
        http: { host, port: dns.port },
        grpc: dns.grpcPort === undefined ? undefined : { host, port: dns.grpcPort },
        tls,
      };
    };
    const loop = new DnsDiscovery(
      { service: this.name, variant: v.tag, name: dns.name, timing: dns },
      {
        resolver: this.deps.discovery.resolver(),
        clock: this.deps.clock,
        timers: this.deps.discovery.timers,
        logger: this.deps.logger,
        replicas: {
          follow: ({ addresses }) => {
            const wanted = addresses.map(address);
            const keys = new Set(wanted.map(replicaKey));
            // Those gone from the answer (or left from other settings) drain: in flight finishes.
            void v.drainReplicas((r) => !keys.has(replicaKey(r.address)));
            const added = v.addReplicas(wanted, { awaitHealthCheck: this.spec.healthCheck !== undefined });
            if (added.length > 0) this.checker?.round(added);
          },
        },
      },
    );
    this.discoveries.set(v, { settings, loop });
    loop.start();
  }

  private stopDiscovery(v: VariantRuntime): void {
    this.discoveries.get(v)?.loop.close();
    this.discoveries.delete(v);
  }

  /** Starts a round of health checks at once (start-up, and tests). */
  checkNow(): void {
    this.checker?.round();
  }

  async close(): Promise<void> {
    for (const v of this.variants) this.stopDiscovery(v);
    this.checker?.close();
    await Promise.all(this.variants.map((v) => v.close()));
  }

  private restartChecks(): void {
    this.checker?.close();
    this.checker = undefined;
    const hc = this.spec.healthCheck;
    if (!hc) {
      // Checks turned off: nothing may stay marked unhealthy by a check that no longer runs.
      for (const v of this.variants) for (const r of v.replicas) r.health.healthy = true;
      for (const v of this.variants) v.refresh();
      return;
    }
    this.checker = new HealthChecker(
      hc,
      {
        replicas: () => this.variants.flatMap((v) => v.replicas),
        // Looked up when it flips: a replica may have joined since the round began.
        changed: (r) => this.variants.find((v) => v.replicas.includes(r))?.refresh(),
      },
      this.deps.logger,
      this.name,
    );
    this.checker.start();
  }
}
