import type { KpaConfig } from './kpa-config.js';
import type { ScaleDecision, Scaler, ScalerInput } from './scaler.js';

const round = (n: number): string => (Math.round(n * 100) / 100).toString();

/** How a scaler starts: Knative starts in panic when a revision already runs more than one pod. */
export interface KpaStart {
  readonly now: number;
  readonly readyReplicas: number;
}

/**
 * Knative's KPA decision, ported from knative/serving `pkg/autoscaler/scaling/autoscaler.go`
 * (Apache-2.0) and the scale-to-zero step of `pkg/reconciler/autoscaling/kpa/scaler.go`; its
 * table tests run against this class in test/unit/kpa-conformance.test.ts.
 *
 * - desired = ceil(average concurrency / (target × utilization)), over the stable window and
 *   over the panic window, each kept within [ready / maxScaleDownRate, ready × maxScaleUpRate]
 *   (no lower bound while the variant is unreachable) and raised to `activationScale` when any
 *   load is seen;
 * - panic starts when the panic window asks for `panicThresholdPercent` % of the ready replicas
 *   and ends once it has not for a whole stable window; in panic the count is max(stable, panic)
 *   and never goes down;
 * - a scale-down waits `scaleDownDelayMs` (the maximum over that window is kept);
 * - then min/max bound it, and a running variant goes to zero only after a stable window without
 *   traffic plus `scaleToZeroAfterMs` (Knative's scale-to-zero grace period).
 *
 * State (panic start, panic high-water mark, delay window, idle start) lives here; time is
 * always passed in.
 */
export class KpaScaler implements Scaler {
  private panicSince: number | undefined;
  private maxPanicReplicas = 0;
  private readonly delayed: { readonly at: number; readonly desired: number }[] = [];
  /** When the autoscaler first wanted zero for an inactive variant (the grace counts from here). */
  private inactiveSince: number | undefined;

  constructor(
    private config: KpaConfig,
    start?: KpaStart,
  ) {
    // Knative: "We always start in the panic mode, if the deployment is scaled up over 1 pod":
    // without history, keep at least the current scale until a stable window has been measured.
    if (start && start.readyReplicas > 1) {
      this.panicSince = start.now;
      this.maxPanicReplicas = start.readyReplicas;
    }
  }

  /** How long the panic window is (ms). */
  get panicWindowMs(): number {
    return (this.config.stableWindowMs * this.config.panicWindowPercent) / 100;
  }

  /** New settings; the panic state is kept (Knative's `Update`). */
  update(config: KpaConfig): void {
    this.config = config;
  }

  decide(input: ScalerInput, now: number): ScaleDecision {
    const c = this.config;
    const reachable = input.reachable ?? true;
    if (input.stableConcurrency === undefined || input.panicConcurrency === undefined) {
      return {
        desired: Math.max(c.min, Math.min(c.max, c.initialScale)),
        valid: false,
        panic: this.panicSince !== undefined,
        reason: 'no data yet',
      };
    }
    const perReplica = c.targetConcurrency * c.targetUtilization;
    const ready = Math.max(1, input.readyReplicas);
    // Ceil and floor let a small rate still move by one replica (Knative's comment and case).
    const maxUp = Math.ceil(c.maxScaleUpRate * ready);
    const maxDown = reachable ? Math.floor(ready / c.maxScaleDownRate) : 0;
    const wantedStable = Math.ceil(input.stableConcurrency / perReplica);
    const wantedPanic = Math.ceil(input.panicConcurrency / perReplica);
    let stable = Math.min(Math.max(wantedStable, maxDown), maxUp);
    let panic = Math.min(Math.max(wantedPanic, maxDown), maxUp);
    if (c.activationScale > 1) {
      if (wantedStable > 0 && stable < c.activationScale) stable = c.activationScale;
      if (wantedPanic > 0 && panic < c.activationScale) panic = c.activationScale;
    }

    if (wantedPanic / ready >= c.panicThresholdPercent / 100) {
      this.panicSince = now; // starts panic, or extends it
    } else if (this.panicSince !== undefined && this.panicSince + c.stableWindowMs < now) {
      this.panicSince = undefined;
      this.maxPanicReplicas = 0;
    }

    let desired: number;
    let reason: string;
    if (this.panicSince !== undefined) {
      // The stable window can ask for more than the panic window: provision for the larger.
      this.maxPanicReplicas = Math.max(this.maxPanicReplicas, stable, panic);
      desired = this.maxPanicReplicas;
      reason = `panic: ${round(input.panicConcurrency)} concurrent over ${this.panicWindowMs / 1000}s (stable ${round(input.stableConcurrency)}) / ${round(perReplica)} per replica`;
    } else {
      desired = stable;
      reason = `stable: ${round(input.stableConcurrency)} concurrent over ${c.stableWindowMs / 1000}s / ${round(perReplica)} per replica`;
    }

    if (reachable && c.scaleDownDelayMs > 0) {
      const held = this.delay(desired, now);
      if (held !== desired) reason += `; scale-down delayed ${c.scaleDownDelayMs / 1000}s (at ${held})`;
      desired = held;
    }

    const bounded = Math.min(c.max, Math.max(c.min, desired));
    if (bounded !== desired) reason += `; bounded to [${c.min}, ${c.max}]`;
    const hold = this.holdBeforeZero(bounded, input, now);
    if (hold) reason += `; ${hold}`;
    const final = hold ? 1 : bounded;
    return {
      desired: final,
      valid: true,
      panic: this.panicSince !== undefined,
      reason: `${reason} -> ${final}`,
    };
  }

  /** The largest count decided within the last `scaleDownDelayMs` (Knative's max.TimeWindow). */
  private delay(desired: number, now: number): number {
    const from = now - this.config.scaleDownDelayMs;
    while (this.delayed.length > 0 && this.delayed[0]!.at <= from) this.delayed.shift();
    this.delayed.push({ at: now, desired });
    return Math.max(...this.delayed.map((d) => d.desired));
  }

  /**
   * Knative's reconciler keeps the last replica until the variant has been inactive (no request
   * for a stable window) and then backed by the activator for the grace period. The grace keeps
   * a replica that runs; it never starts one for a variant already at zero. Returns why one
   * replica is kept, or undefined.
   */
  private holdBeforeZero(desired: number, input: ScalerInput, now: number): string | undefined {
    const c = this.config;
    if (desired > 0 || input.readyReplicas === 0) {
      this.inactiveSince = undefined;
      return undefined;
    }
    const { lastActiveAt } = input;
    if (lastActiveAt !== undefined && now - lastActiveAt < c.stableWindowMs) {
      return `active ${round((now - lastActiveAt) / 1000)}s ago < ${c.stableWindowMs / 1000}s stable window before zero`;
    }
    this.inactiveSince ??= now;
    const inactive = now - this.inactiveSince;
    if (inactive >= c.scaleToZeroAfterMs) return undefined;
    return `inactive ${round(inactive / 1000)}s < ${c.scaleToZeroAfterMs / 1000}s grace before zero`;
  }
}
