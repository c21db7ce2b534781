import type { DiscoverySnapshot } from './discovery/dns-discovery.js';
import type { ServiceRuntime } from './runtime/service-runtime.js';

/** One replica's live state. */
export interface ReplicaState {
  readonly id: string;
  readonly grpc?: string;
  /** Tries in flight on it. */
  readonly active: number;
  readonly healthy: boolean;
  readonly ejected: boolean;
  readonly ejections: number;
  readonly requests: number;
  readonly errors: number;
  readonly lastHealthError?: string;
}

/** One variant's live state: what the autoscaler and `flotilla status` read. */
export interface VariantState {
  readonly tag: string;
  readonly weight: number;
  readonly modelName: string;
  readonly modelVersion?: string;
  readonly runs: 'endpoints' | 'model' | 'command';
  /** Requests in flight through this variant. */
  readonly inflight: number;
  readonly requests: number;
  readonly errors: number;
  /**
   * Σ in-flight × milliseconds since the variant started: the average concurrency between two
   * readings is Δ`concurrencyIntegral` / Δ`atMs`.
   */
  readonly concurrencyIntegral: number;
  /** `dns://` endpoints: the name, the last answer's status and addresses, the next resolution. */
  readonly discovery?: DiscoverySnapshot;
  readonly replicas: readonly ReplicaState[];
}

/** One service's live state. */
export interface ServiceState {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly path?: string;
  readonly balancer: string;
  readonly mirror?: { readonly variant: string; readonly percent: number };
  readonly activeRequests: number;
  readonly activeRetries: number;
  readonly variants: readonly VariantState[];
}

/** The gateway's live state at one instant (`atMs` on the gateway's clock). */
export interface GatewayState {
  readonly atMs: number;
  readonly services: readonly ServiceState[];
}

/** Snapshots the runtime objects (plain data: safe to serialise and to keep). */
export function snapshot(services: readonly ServiceRuntime[], atMs: number): GatewayState {
  return {
    atMs,
    services: services.map((s) => {
      const budget = s.budget.snapshot();
      return {
        name: s.name,
        hosts: s.hosts,
        ...(s.path !== undefined ? { path: s.path } : {}),
        balancer: s.spec.balancer,
        ...(s.spec.mirror ? { mirror: s.spec.mirror } : {}),
        activeRequests: budget.activeRequests,
        activeRetries: budget.activeRetries,
        variants: s.variants.map((v) => {
          const discovery = s.discoveryOf(v)?.snapshot();
          return {
            tag: v.tag,
            weight: v.weight,
            modelName: v.spec.modelName,
            ...(v.spec.modelVersion !== undefined ? { modelVersion: v.spec.modelVersion } : {}),
            runs: v.spec.runs.kind,
            inflight: v.inflight,
            requests: v.requests,
            errors: v.errors,
            concurrencyIntegral: v.concurrencyIntegral(),
            ...(discovery ? { discovery } : {}),
            replicas: v.replicas.map((r) => ({
              id: r.id,
              ...(r.address.grpc ? { grpc: `${r.address.grpc.host}:${r.address.grpc.port}` } : {}),
              active: r.active,
              healthy: r.health.healthy,
              ejected: r.ejected,
              ejections: v.ejections(r),
              requests: r.requests,
              errors: r.errors,
              ...(r.health.lastError !== undefined ? { lastHealthError: r.health.lastError } : {}),
            })),
          };
        }),
      };
    }),
  };
}
