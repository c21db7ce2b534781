import {
  ConcurrencyWindow,
  type KpaConfig,
  KpaScaler,
  kpaConfigOf,
  type ScaleDecision,
} from '../autoscaler/index.js';
import type { ScaleSpec } from '../spec/index.js';

/** What a tick reads of a variant's load. */
export interface LoadReading {
  /** Σ in-flight × ms (the gateway's exact concurrency integral). */
  readonly integral: number;
  readonly lastActiveAt: number | undefined;
  readonly readyReplicas: number;
  /** The variant has traffic weight (Knative's `Reachable`); default true. */
  readonly reachable?: boolean;
}

/**
 * One managed variant's autoscaling: the concurrency window fed on every tick, the KPA scaler,
 * and a pin set by `flotilla scale` (min = max = N, as `kubectl scale` would). Time comes in.
 */
export class VariantScaling {
  private config: KpaConfig;
  private scaler: KpaScaler;
  private readonly window: ConcurrencyWindow;
  private pinnedTo: number | undefined;
  private desiredCount: number;
  private lastDecision: ScaleDecision | undefined;

  /** When the variant was (re)started: an idle grace counts from here until a request comes. */
  private since: number;

  constructor(
    readonly spec: ScaleSpec,
    now: number,
  ) {
    this.since = now;
    this.config = kpaConfigOf(spec);
    this.scaler = new KpaScaler(this.config);
    this.window = new ConcurrencyWindow(spec.stableWindowMs);
    this.desiredCount = this.config.initialScale;
  }

  /** The replica count the variant should have now. */
  get desired(): number {
    return this.desiredCount;
  }

  /** The KPA's last decision (its numbers and whether it panicked), once it has decided. */
  get last(): ScaleDecision | undefined {
    return this.lastDecision;
  }

  get min(): number {
    return this.config.min;
  }

  get max(): number {
    return this.config.max;
  }

  get pinned(): boolean {
    return this.pinnedTo !== undefined;
  }

  /** The stable window (ms); ticks are a fraction of it. */
  get stableWindowMs(): number {
    return this.config.stableWindowMs;
  }

  /** Pins the count at `replicas` (min = max = replicas), as `kubectl scale` would. */
  pin(replicas: number, now: number): void {
    this.setBounds(replicas, now);
    this.desiredCount = replicas;
  }

  /**
   * Back to the service file's min and max. A variant about to take traffic (a rollback, a
   * rollout start) keeps at least one replica so it does not start from zero under it.
   * Returns true when the desired count changed.
   */
  unpin(now: number, keepOne: boolean): boolean {
    if (this.pinnedTo === undefined) return false;
    this.setBounds(undefined, now);
    const floor = keepOne ? Math.max(this.config.min, 1) : this.config.min;
    if (this.desiredCount >= floor) return false;
    this.desiredCount = floor;
    return true;
  }

  private setBounds(replicas: number | undefined, now: number): void {
    this.since = now;
    this.pinnedTo = replicas;
    const base = kpaConfigOf(this.spec);
    this.config = replicas === undefined ? base : { ...base, min: replicas, max: replicas };
    // A new scaler: the old one's panic state was about other bounds.
    this.scaler = new KpaScaler(this.config);
  }

  /** Records the load and decides; returns the decision when the desired count changed. */
  tick(reading: LoadReading, now: number): ScaleDecision | undefined {
    this.window.record(now, reading.integral);
    const decision = this.scaler.decide(
      {
        stableConcurrency: this.window.average(now, this.config.stableWindowMs),
        panicConcurrency: this.window.average(now, this.scaler.panicWindowMs),
        readyReplicas: reading.readyReplicas,
        ...(reading.reachable !== undefined ? { reachable: reading.reachable } : {}),
        // A variant that never had traffic still gets its grace before going to zero.
        lastActiveAt: Math.max(reading.lastActiveAt ?? this.since, this.since),
      },
      now,
    );
    this.lastDecision = decision;
    // Without data yet ("keep what you have") the count stays, unless a pin or bounds moved it.
    const next = decision.valid
      ? decision.desired
      : Math.min(this.config.max, Math.max(this.config.min, this.desiredCount));
    if (next === this.desiredCount) return undefined;
    // A replica woken for a request (or a switch) is not stopped before it is even ready.
    if (next === 0 && reading.readyReplicas === 0 && now - this.since < this.config.scaleToZeroAfterMs)
      return undefined;
    this.desiredCount = next;
    return decision.valid ? decision : { ...decision, desired: next, reason: `bounds -> ${next}` };
  }

  /**
   * A request is waiting and nothing runs: `activationScale` replicas (Knative's, default 1) now,
   * without waiting for a tick.
   */
  wake(now: number): boolean {
    if (this.desiredCount > 0 || this.config.max === 0) return false;
    this.desiredCount = Math.min(this.config.max, Math.max(1, this.config.activationScale));
    this.since = now;
    return true;
  }
}
