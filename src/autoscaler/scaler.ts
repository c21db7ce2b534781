/** What a scaler reads at each tick for one variant. */
export interface ScalerInput {
  /** Average concurrency over the stable window; undefined when there is no data yet. */
  readonly stableConcurrency: number | undefined;
  /** Average concurrency over the panic window; undefined when there is no data yet. */
  readonly panicConcurrency: number | undefined;
  /** Replicas ready to serve now. */
  readonly readyReplicas: number;
  /** When the variant last had a request in flight (or queued at the activator). */
  readonly lastActiveAt: number | undefined;
  /**
   * Whether the variant gets traffic (weight > 0). Unreachable, it may scale down without the
   * rate bound and without the scale-down delay (Knative's `Reachable`). Default true.
   */
  readonly reachable?: boolean;
}

/** A scaling decision; `valid: false` means "keep what you have" (missing data is never zero). */
export interface ScaleDecision {
  readonly desired: number;
  readonly valid: boolean;
  readonly panic: boolean;
  /** The numbers behind the decision, for the log. */
  readonly reason: string;
}

/** Turns concurrency measurements into a desired replica count for one variant. */
export interface Scaler {
  decide(input: ScalerInput, now: number): ScaleDecision;
}
