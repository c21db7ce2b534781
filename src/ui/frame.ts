import type { FleetEvent, ReplicaStatus, RolloutStatus, ScaleStatus, StatusReport } from '../fleet/index.js';
import type { GatewayState } from '../gateway/index.js';

/** A service's objectives, drawn as lines on its charts. */
export interface SloLines {
  readonly latencyMs?: number;
  readonly errorRate?: number;
}

/** One replica as the dashboard shows it: the fleet's view plus the gateway's ejection. */
export interface ReplicaFrame extends ReplicaStatus {
  /** Taken out of rotation by outlier detection. */
  readonly ejected: boolean;
}

/** One variant at one instant, with rates over the last sampling interval. */
export interface VariantFrame {
  readonly tag: string;
  readonly weight: number;
  readonly runs: 'endpoints' | 'model' | 'command';
  readonly model: string;
  /** Answers per second over the last interval. */
  readonly rps: number;
  /** Errors / answers over the last interval (0 with no answers). */
  readonly errorRate: number;
  /** Latency quantiles (ms) of requests that ended in the latency window; absent with none. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly inflight: number;
  readonly requests: number;
  readonly errors: number;
  /** Managed variants only (`flotilla up`). */
  readonly scale?: ScaleStatus;
  readonly replicas: readonly ReplicaFrame[];
}

export interface ServiceFrame {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly path?: string;
  readonly slo?: SloLines;
  readonly rollout?: RolloutStatus;
  readonly variants: readonly VariantFrame[];
}

/** What the dashboard streams every interval (`event: frame`). */
export interface DashboardFrame {
  /** Wall-clock time (ms since the epoch). */
  readonly atMs: number;
  /** `up` (controls for scaling and rollouts) or `gateway` (static endpoints: weights only). */
  readonly mode: 'up' | 'gateway';
  readonly services: readonly ServiceFrame[];
  /** The fleet's recent decisions, oldest first (`flotilla status`'s text). */
  readonly events: readonly FleetEvent[];
}

/** The readings a frame is made from; `status` only under `flotilla up`. */
export interface FrameInputs {
  readonly wallMs: number;
  readonly state: GatewayState;
  readonly status?: StatusReport;
  /** Requests and errors per `service/variant` at the previous frame, with its monotonic time. */
  readonly previous?: FrameCounters;
  readonly latency: (service: string, variant: string) => { p50Ms?: number; p99Ms?: number };
  readonly slo: (service: string) => SloLines | undefined;
  /** At most this many events are sent (the newest). */
  readonly maxEvents: number;
}

/** Counters kept between frames to turn totals into rates. */
export interface FrameCounters {
  readonly atMs: number;
  readonly byVariant: ReadonlyMap<string, { readonly requests: number; readonly errors: number }>;
}

const key = (service: string, variant: string): string => `${service}/${variant}`;

/** The counters of a gateway state, for the next frame's rates. */
export function countersOf(state: GatewayState): FrameCounters {
  const byVariant = new Map<string, { requests: number; errors: number }>();
  for (const s of state.services)
    for (const v of s.variants) byVariant.set(key(s.name, v.tag), { requests: v.requests, errors: v.errors });
  return { atMs: state.atMs, byVariant };
}

/**
 * Builds one frame from the gateway's state (and the fleet's status under `flotilla up`): rates
 * from the counters' change since `previous` (a restarted counter counts from zero), the fleet's
 * replica states joined with the gateway's ejections by address. Pure: readings come in.
 */
export function buildFrame(inputs: FrameInputs): DashboardFrame {
  const { state, status, previous } = inputs;
  const dt = previous ? (state.atMs - previous.atMs) / 1000 : 0;
  return {
    atMs: inputs.wallMs,
    mode: status ? 'up' : 'gateway',
    events: status ? status.events.slice(-inputs.maxEvents) : [],
    services: state.services.map((s) => {
      const fleet = status?.services.find((x) => x.name === s.name);
      const slo = inputs.slo(s.name);
      return {
        name: s.name,
        hosts: s.hosts,
        ...(s.path !== undefined ? { path: s.path } : {}),
        ...(slo ? { slo } : {}),
        ...(fleet?.rollout ? { rollout: fleet.rollout } : {}),
        variants: s.variants.map((v): VariantFrame => {
          const before = previous?.byVariant.get(key(s.name, v.tag));
          const dReq = before && v.requests >= before.requests ? v.requests - before.requests : v.requests;
          const dErr = before && v.errors >= before.errors ? v.errors - before.errors : v.errors;
          const fv = fleet?.variants.find((x) => x.tag === v.tag);
          const ejected = new Map(v.replicas.map((r) => [r.id, r.ejected]));
          const replicas: ReplicaFrame[] = fv
            ? fv.replicas.map((r) => ({ ...r, ejected: ejected.get(r.address ?? '') ?? false }))
            : v.replicas.map((r) => ({
                id: r.id,
                state: 'static',
                address: r.id,
                ...(r.grpc !== undefined ? { grpcAddress: r.grpc } : {}),
                inflight: r.active,
                healthy: r.healthy && !r.ejected,
                ejected: r.ejected,
              }));
          const lat = inputs.latency(s.name, v.tag);
          return {
            tag: v.tag,
            weight: v.weight,
            runs: v.runs,
            model: v.modelVersion !== undefined ? `${v.modelName}:${v.modelVersion}` : v.modelName,
            rps: dt > 0 && previous ? dReq / dt : 0,
            errorRate: dReq > 0 && previous ? dErr / dReq : 0,
            ...(lat.p50Ms !== undefined ? { p50Ms: lat.p50Ms } : {}),
            ...(lat.p99Ms !== undefined ? { p99Ms: lat.p99Ms } : {}),
            inflight: v.inflight,
            requests: v.requests,
            errors: v.errors,
            ...(fv?.scale ? { scale: fv.scale } : {}),
            replicas,
          };
        }),
      };
    }),
  };
}

/** One point of a variant's history: the numbers the charts draw. */
export interface HistoryPoint {
  readonly atMs: number;
  /** `[service, variant, weight, rps, errorRate, p50Ms|null, p99Ms|null, inflight, desired|null, ready|null, panic 0/1]` */
  readonly v: readonly (readonly [
    string,
    string,
    number,
    number,
    number,
    number | null,
    number | null,
    number,
    number | null,
    number | null,
    0 | 1,
  ])[];
}

/** The compact history point of a frame (no replicas, no events). */
export function historyPoint(frame: DashboardFrame): HistoryPoint {
  return {
    atMs: frame.atMs,
    v: frame.services.flatMap((s) =>
      s.variants.map(
        (v) =>
          [
            s.name,
            v.tag,
            v.weight,
            round(v.rps),
            round(v.errorRate),
            v.p50Ms !== undefined ? round(v.p50Ms) : null,
            v.p99Ms !== undefined ? round(v.p99Ms) : null,
            v.inflight,
            v.scale?.desired ?? null,
            v.scale?.ready ?? null,
            v.scale?.panic ? 1 : 0,
          ] as const,
      ),
    ),
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
