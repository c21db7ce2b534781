/**
 * What `flotilla status` shows: the admin API's `GET /_flotilla/status` answer. Plain data, so the
 * gateway can serialise it and the CLI can print it without knowing the classes behind it.
 */

/** One replica of a variant. Static endpoints have state `static` and no pid. */
export interface ReplicaStatus {
  readonly id: string;
  readonly state: 'starting' | 'ready' | 'draining' | 'stopped' | 'crashed' | 'static';
  readonly pid?: number;
  /** `host:port` of HTTP, once known. */
  readonly address?: string;
  readonly grpcAddress?: string;
  /** Requests the gateway has in flight on it. */
  readonly inflight: number;
  readonly healthy?: boolean;
  readonly restarts?: number;
  /** Milliseconds from start to ready (cold start), once ready. */
  readonly startMs?: number;
}

/** Autoscaling of a managed variant: what it wants against what it has. */
export interface ScaleStatus {
  readonly desired: number;
  readonly ready: number;
  readonly min: number;
  readonly max: number;
  /** Set by `flotilla scale` (min = max = replicas), cleared by rollback. */
  readonly pinned: boolean;
  readonly panic: boolean;
  /** Requests held by the activator while capacity is short. */
  readonly queued: number;
  /** The last decision's numbers. */
  readonly lastDecision?: string;
  /**
   * Why the variant's replicas cannot start (a missing model version, a wrong repository, a crash
   * loop), with the replica's last error; requests to it fail fast with FLT_REPLICA_FAILED meanwhile.
   */
  readonly failure?: string;
}

/** What a `flotilla scale` applied: the count asked for, the count pinned, and why they differ. */
export interface ScaleOutcome {
  readonly requested: number;
  readonly applied: number;
  /** Set when `--force` capped the request: the limit that capped it. */
  readonly capped?: string;
}

/** The admin API's answer to a scale request: the service after it, and what was applied. */
export interface ScaleAnswer extends ServiceStatus {
  readonly scaled: ScaleOutcome;
}

export interface VariantStatus {
  readonly tag: string;
  readonly weight: number;
  readonly runs: 'endpoints' | 'model' | 'command';
  readonly modelName: string;
  readonly modelVersion?: string;
  /** Requests in flight through the gateway (including those queued at the activator). */
  readonly inflight: number;
  readonly requests: number;
  readonly errors: number;
  /** Managed variants only. */
  readonly scale?: ScaleStatus;
  readonly replicas: readonly ReplicaStatus[];
}

export type RolloutPhase = 'progressing' | 'promoted' | 'rolled-back' | 'manual';

/** A service's rollout, when it has a canary. */
export interface RolloutStatus {
  readonly phase: RolloutPhase;
  readonly stable: string;
  readonly canary: string;
  /** The canary's weight in percent of the pair's total. */
  readonly canaryWeight: number;
  /** Index into the rollout's steps (progressive rollouts). */
  readonly step?: number;
  readonly steps?: readonly number[];
  readonly lastDecision?: string;
  /** Why a progressing rollout holds at its step (e.g. "step 1/4 (10%) waits for 20 canary requests, has 3"). */
  readonly holding?: string;
}

export interface ServiceStatus {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly path?: string;
  readonly variants: readonly VariantStatus[];
  readonly rollout?: RolloutStatus;
}

/** A scaling, rollout or replica decision, with the numbers behind it. */
export interface FleetEvent {
  readonly atMs: number;
  readonly kind: 'scale' | 'rollout' | 'replica';
  readonly service: string;
  readonly variant?: string;
  readonly message: string;
}

export interface StatusReport {
  /** Wall-clock time of the report (ms since the epoch). */
  readonly atMs: number;
  readonly services: readonly ServiceStatus[];
  /** Recent decisions, oldest first. */
  readonly events: readonly FleetEvent[];
}

/** `POST /_flotilla/services/{name}/rollout` body. */
export type RolloutAction = 'start' | 'promote' | 'rollback';
