import {
  type CanaryObservation,
  decideRollout,
  type RolloutConfig,
  type RolloutDecision,
} from '../rollout/index.js';
import type { RolloutPhase, RolloutStatus } from './status.js';

/** Counters of the canary at the start of a step, so a step judges only its own requests. */
interface Baseline {
  readonly requests: number;
  readonly errors: number;
  readonly at: number;
}

/** What the rollout reads of the canary variant. */
export interface CanaryReading {
  readonly requests: number;
  readonly errors: number;
  /** The p99 latency (ms) of requests that ended at or after `since`. */
  p99Since(since: number): number | undefined;
}

/**
 * A service's canary: which variant is stable and which is the canary, the phase, and for a
 * progressive rollout the step it is at. Decisions come from the pure `decideRollout`; this keeps
 * the state between them. Time comes in.
 */
export class ServiceRollout {
  phase: RolloutPhase;
  step = 0;
  canaryWeight: number;
  lastDecision: string | undefined;
  private baseline: Baseline | undefined;

  constructor(
    readonly stable: string,
    readonly canary: string,
    readonly config: RolloutConfig | undefined,
    initialCanaryWeight: number,
  ) {
    this.canaryWeight = initialCanaryWeight;
    this.phase = 'manual';
  }

  /** Starts (or restarts) the progressive rollout at the first step; returns the canary weight. */
  start(now: number, canary: CanaryReading): number {
    if (!this.config) throw new Error('no rollout steps');
    this.phase = 'progressing';
    this.step = 0;
    this.canaryWeight = this.config.steps[0]!;
    this.baseline = { requests: canary.requests, errors: canary.errors, at: now };
    return this.canaryWeight;
  }

  /** One progressive decision; undefined when not progressing. */
  tick(now: number, canary: CanaryReading): RolloutDecision | undefined {
    if (this.phase !== 'progressing' || !this.config || !this.baseline) return undefined;
    const b = this.baseline;
    const seen: CanaryObservation = {
      requests: canary.requests - b.requests,
      errors: canary.errors - b.errors,
      p99Ms: canary.p99Since(b.at),
    };
    const decision = decideRollout(this.config, { step: this.step, stepStartedAt: b.at }, seen, now);
    if (decision.action === 'hold') return decision;
    this.lastDecision = decision.reason;
    this.canaryWeight = decision.canaryWeight;
    if (decision.action === 'advance') {
      this.step = decision.step;
      this.baseline = { requests: canary.requests, errors: canary.errors, at: now };
    } else {
      this.phase = decision.action === 'promote' ? 'promoted' : 'rolled-back';
      this.baseline = undefined;
    }
    return decision;
  }

  /** A manual change (set-weights, promote, rollback) ends any progressive rollout. */
  settle(phase: RolloutPhase, canaryWeight: number, reason: string): void {
    this.phase = phase;
    this.canaryWeight = canaryWeight;
    this.lastDecision = reason;
    this.baseline = undefined;
  }

  status(): RolloutStatus {
    return {
      phase: this.phase,
      stable: this.stable,
      canary: this.canary,
      canaryWeight: this.canaryWeight,
      ...(this.config ? { step: this.step, steps: this.config.steps } : {}),
      ...(this.lastDecision !== undefined ? { lastDecision: this.lastDecision } : {}),
    };
  }
}
