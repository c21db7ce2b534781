import type { ScaleDecision, Scaler, ScalerInput } from './scaler.js';

/** Knative KPA settings for one variant (names after Knative's annotations, units in the names). */
export interface KpaConfig {
  /** Concurrent requests one replica should handle (Knative `target`, default 100). */
  readonly targetConcurrency: number;
  /** Share of the target to aim for, 0..1 (Knative `target-utilization-percentage` / 100, default 0.7). */
  readonly targetUtilization: number;
  /** Window of the stable average (Knative `window`, default 60 s). */
  readonly stableWindowMs: number;
  /** Panic window as a share of the stable window (Knative default 10 %). */
  readonly panicWindowShare: number;
  /** Enter panic when the panic window asks for this multiple of the ready replicas (Knative 200 % = 2). */
  readonly panicThreshold: number;
  /** At most this many times the ready replicas per decision (Knative 1000). */
  readonly maxScaleUpRate: number;
  /** At least ready / this per decision (Knative 2). */
  readonly maxScaleDownRate: number;
  readonly min: number;
  readonly max: number;
  /** Replicas before any measurement (Knative `initial-scale`, default 1). */
  readonly initialScale: number;
  /** With min 0: how long without traffic before going to zero (Knative's grace period). */
  readonly scaleToZeroAfterMs: number;
}

/** Knative's defaults (and ElasticServing's, which keeps them). */
export const KPA_DEFAULTS: KpaConfig = Object.freeze({
  targetConcurrency: 100,
  targetUtilization: 0.7,
  stableWindowMs: 60_000,
  panicWindowShare: 0.1,
  panicThreshold: 2,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  min: 1,
  max: 10,
  initialScale: 1,
  scaleToZeroAfterMs: 30_000,
});

const round = (n: number): string => (Math.round(n * 100) / 100).toString();

/**
 * Knative's KPA decision: desired = ceil(average concurrency / (target × utilization)) over the
 * stable window; when the panic window asks for `panicThreshold` × the ready replicas, panic: use
 * the panic window and never scale down until a stable window has passed without panic. Rates
 * bound each step; min/max bound the result; with min 0 the variant goes to zero only after
 * `scaleToZeroAfterMs` without traffic. State (panic start, panic high-water mark) lives here;
 * time is always passed in.
 */
export class KpaScaler implements Scaler {
  private panicSince: number | undefined;
  private panicHigh = 0;

  constructor(private readonly config: KpaConfig) {}

  /** How long the panic window is. */
  get panicWindowMs(): number {
    return this.config.stableWindowMs * this.config.panicWindowShare;
  }

  decide(input: ScalerInput, now: number): ScaleDecision {
    const c = this.config;
    if (input.stableConcurrency === undefined || input.panicConcurrency === undefined) {
      return {
        desired: Math.max(c.min, Math.min(c.max, c.initialScale)),
        valid: false,
        panic: false,
        reason: 'no data yet',
      };
    }
    const perReplica = c.targetConcurrency * c.targetUtilization;
    const ready = Math.max(1, input.readyReplicas);
    const upLimit = Math.ceil(c.maxScaleUpRate * ready);
    const downLimit = Math.floor(ready / c.maxScaleDownRate);
    const clamp = (n: number): number => Math.min(upLimit, Math.max(downLimit, n));
    const stable = clamp(Math.ceil(input.stableConcurrency / perReplica));
    const panicWanted = Math.ceil(input.panicConcurrency / perReplica);
    const panic = clamp(panicWanted);

    if (panicWanted / ready >= c.panicThreshold) {
      if (this.panicSince === undefined) this.panicHigh = 0;
      this.panicSince = now;
    } else if (this.panicSince !== undefined && now - this.panicSince >= c.stableWindowMs) {
      this.panicSince = undefined;
      this.panicHigh = 0;
    }
    let desired: number;
    let reason: string;
    if (this.panicSince !== undefined) {
      // In panic the count only grows: a burst must not be followed by a premature scale-down.
      this.panicHigh = Math.max(this.panicHigh, panic, input.readyReplicas);
      desired = this.panicHigh;
      reason = `panic: ${round(input.panicConcurrency)} concurrent over ${this.panicWindowMs / 1000}s / ${round(perReplica)} per replica`;
    } else {
      desired = stable;
      reason = `stable: ${round(input.stableConcurrency)} concurrent over ${c.stableWindowMs / 1000}s / ${round(perReplica)} per replica`;
    }
    // The grace keeps a replica that runs; it never starts one for a variant already at zero.
    if (
      desired === 0 &&
      c.min === 0 &&
      input.readyReplicas > 0 &&
      input.lastActiveAt !== undefined &&
      now - input.lastActiveAt < c.scaleToZeroAfterMs
    ) {
      desired = 1;
      reason += `; idle ${round((now - input.lastActiveAt) / 1000)}s < ${c.scaleToZeroAfterMs / 1000}s before zero`;
    }
    const bounded = Math.min(c.max, Math.max(c.min, desired));
    if (bounded !== desired) reason += `; bounded to [${c.min}, ${c.max}]`;
    return {
      desired: bounded,
      valid: true,
      panic: this.panicSince !== undefined,
      reason: `${reason} -> ${bounded}`,
    };
  }
}
