import type { ServiceSpec } from '../../spec/index.js';
import { upstreamTls } from '../../tls/index.js';
import { HealthChecker } from '../health/health-checker.js';
import { RetryBudget } from '../retry/retry-budget.js';
import type { RoutableService } from '../routing/routing-table.js';
import type { ReplicaRuntime } from './replica-runtime.js';
import { type VariantDeps, VariantRuntime } from './variant-runtime.js';

/** Builds the balancer a service's spec asks for (the gateway knows the implementations). */
export type BalancerFactory = (spec: ServiceSpec) => VariantDeps['newBalancer'];

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

  constructor(
    spec: ServiceSpec,
    private readonly deps: Omit<VariantDeps, 'newBalancer'> & { readonly balancers: BalancerFactory },
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
        v.setReplicas(vs.runs.endpoints.map((http, i) => ({ http, grpc: grpc?.[i], tls })));
      }
      next.push(v);
    }
    const removed = this.variants.filter((v) => !next.includes(v));
    this.variants = next;
    this.restartChecks();
    return Promise.all(removed.map((v) => v.close())).then(() => undefined);
  }

  /** Starts a round of health checks at once (start-up, and tests). */
  checkNow(): void {
    this.checker?.round();
  }

  async close(): Promise<void> {
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
    const owner = new Map<ReplicaRuntime, VariantRuntime>();
    this.checker = new HealthChecker(
      hc,
      {
        replicas: () => {
          owner.clear();
          for (const v of this.variants) for (const r of v.replicas) owner.set(r, v);
          return owner.keys();
        },
        changed: (r) => owner.get(r)?.refresh(),
      },
      this.deps.logger,
      this.name,
    );
    this.checker.start();
  }
}
