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
  private phaseValue: RolloutPhase = 'manual';
  private stepValue = 0;
  private weight: number;
  private lastDecision: string | undefined;
  /** Why a progressing rollout holds at its step, from the latest tick. */
  private holding: string | undefined;
  private baseline: Baseline | undefined;

  constructor(
    readonly stable: string,
    readonly canary: string,
    readonly config: RolloutConfig | undefined,
    initialCanaryWeight: number,
  ) {
    this.weight = initialCanaryWeight;
  }

  get phase(): RolloutPhase {
    return this.phaseValue;
  }

  /** Index into the steps of the weight in force (progressive rollouts). */
  get step(): number {
    return this.stepValue;
  }

  /** The canary's share in percent of the pair's traffic. */
  get canaryWeight(): number {
    return this.weight;
  }

  /** Starts (or restarts) the progressive rollout at the first step; returns the canary weight. */
  start(now: number, canary: CanaryReading): number {
    if (!this.config) throw new Error('no rollout steps');
    this.phaseValue = 'progressing';
    this.stepValue = 0;
    this.weight = this.config.steps[0]!;
    this.holding = undefined;
    this.baseline = { requests: canary.requests, errors: canary.errors, at: now };
    return this.weight;
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
    const decision = decideRollout(this.config, { step: this.stepValue, stepStartedAt: b.at }, seen, now);
    if (decision.action === 'hold') {
      this.holding = decision.reason;
      return decision;
    }
    this.holding = undefined;
    this.lastDecision = decision.reason;
    this.weight = decision.canaryWeight;
    if (decision.action === 'advance') {
      this.stepValue = decision.step;
      this.baseline = { requests: canary.requests, errors: canary.errors, at: now };
    } else {
      this.phaseValue = decision.action === 'promote' ? 'promoted' : 'rolled-back';
      this.baseline = undefined;
    }
    return decision;
  }

  /** A manual change (set-weights, promote, rollback) ends any progressive rollout. */
  settle(phase: RolloutPhase, canaryWeight: number, reason: string): void {
    this.phaseValue = phase;
    this.weight = canaryWeight;
    this.lastDecision = reason;
    this.holding = undefined;
    this.baseline = undefined;
  }

  status(): RolloutStatus {
    return {
      phase: this.phaseValue,
      stable: this.stable,
      canary: this.canary,
      canaryWeight: this.weight,
      ...(this.config ? { step: this.stepValue, steps: this.config.steps } : {}),
      ...(this.lastDecision !== undefined ? { lastDecision: this.lastDecision } : {}),
      ...(this.phaseValue === 'progressing' && this.holding !== undefined ? { holding: this.holding } : {}),
    };
  }
}
