import { NotFoundError } from '../core/index.js';
import type { GatewayState, VariantState } from '../gateway/index.js';
import type { ReplicaInfo } from '../orchestrator/index.js';
import type { ReplicaStatus, RolloutStatus, ServiceStatus, VariantStatus } from './status.js';
import type { VariantControl } from './variant-control.js';

/** What a service's status is projected from. */
export interface StatusSources {
  readonly state: GatewayState;
  readonly replicas: readonly ReplicaInfo[];
  readonly variant: (service: string, tag: string) => VariantControl | undefined;
  readonly rollout: (service: string) => RolloutStatus | undefined;
}

/** A service as `flotilla status` shows it: the gateway's view joined with the fleet's. Pure. */
export function serviceStatus(service: string, src: StatusSources): ServiceStatus {
  const s = src.state.services.find((x) => x.name === service);
  if (!s) throw new NotFoundError('FLT_SERVICE_NOT_FOUND', `no service ${service}`);
  const rollout = src.rollout(service);
  return {
    name: s.name,
    hosts: s.hosts,
    ...(s.path !== undefined ? { path: s.path } : {}),
    variants: s.variants.map((v) => variantStatus(v, src.variant(service, v.tag), src.replicas)),
    ...(rollout ? { rollout } : {}),
  };
}

function variantStatus(
  v: VariantState,
  control: VariantControl | undefined,
  all: readonly ReplicaInfo[],
): VariantStatus {
  const base = {
    tag: v.tag,
    weight: v.weight,
    runs: v.runs,
    modelName: v.modelName,
    ...(v.modelVersion !== undefined ? { modelVersion: v.modelVersion } : {}),
    inflight: v.inflight,
    requests: v.requests,
    errors: v.errors,
  };
  if (!control) {
    return {
      ...base,
      replicas: v.replicas.map((r) => ({
        id: r.id,
        state: 'static' as const,
        address: r.id,
        ...(r.grpc !== undefined ? { grpcAddress: r.grpc } : {}),
        inflight: r.active,
        healthy: r.healthy && !r.ejected,
      })),
    };
  }
  const live = new Map(v.replicas.map((r) => [r.id, r]));
  const replicas: ReplicaStatus[] = all
    .filter((r) => r.variant === control.key)
    .map((r) => {
      const routed = r.address !== undefined ? live.get(r.address) : undefined;
      return {
        id: r.id,
        state: r.state,
        ...(r.pid !== undefined ? { pid: r.pid } : {}),
        ...(r.address !== undefined ? { address: r.address } : {}),
        ...(r.grpcAddress !== undefined ? { grpcAddress: r.grpcAddress } : {}),
        inflight: routed?.active ?? 0,
        ...(routed ? { healthy: routed.healthy && !routed.ejected } : {}),
        restarts: r.restarts,
        ...(r.readyAt !== undefined ? { startMs: Math.round(r.readyAt - r.startedAt) } : {}),
      };
    });
  const { scaling } = control;
  return {
    ...base,
    scale: {
      desired: scaling.desired,
      ready: control.readyCount,
      min: scaling.min,
      max: scaling.max,
      pinned: scaling.pinned,
      panic: scaling.last?.panic ?? false,
      queued: control.activator.queued,
      ...(scaling.last ? { lastDecision: scaling.last.reason } : {}),
      ...(control.failure !== undefined ? { failure: control.failure } : {}),
    },
    replicas,
  };
}
