/** The service's SLO the canary is held to. */
export interface RolloutSlo {
  /** p99 latency bound, ms. */
  readonly latencyMs: number;
  /** Highest acceptable share of failed requests, 0..1. */
  readonly errorRate: number;
}

export interface RolloutConfig {
  /** Canary weights to step through, ascending, ending at 100 (e.g. [10, 25, 50, 100]). */
  readonly steps: readonly number[];
  /** Time at each step before the next. */
  readonly intervalMs: number;
  /** Fewer canary requests than this in a step is not enough evidence to advance. */
  readonly minRequests: number;
  readonly slo: RolloutSlo;
}

/** What the canary did since the current step began. */
export interface CanaryObservation {
  readonly requests: number;
  readonly errors: number;
  /** p99 latency in ms, undefined without requests. */
  readonly p99Ms: number | undefined;
}

export type RolloutAction = 'hold' | 'advance' | 'promote' | 'rollback';

export interface RolloutDecision {
  readonly action: RolloutAction;
  /** The canary weight to apply (0..100; the stable variant gets the rest). */
  readonly canaryWeight: number;
  /** The step index after this decision. */
  readonly step: number;
  /** The numbers behind it, for the log. */
  readonly reason: string;
}

export interface RolloutState {
  /** Index into `steps` of the weight in force. */
  readonly step: number;
  /** When that step began. */
  readonly stepStartedAt: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/**
 * One decision of a progressive canary rollout, pure: roll back as soon as the canary breaks
 * the SLO (error rate or p99) once it has enough requests to judge; otherwise advance a step
 * when the interval has passed with enough requests; promote after the last step (100 %).
 */
export function decideRollout(
  config: RolloutConfig,
  state: RolloutState,
  seen: CanaryObservation,
  now: number,
): RolloutDecision {
  const weight = config.steps[state.step] ?? 100;
  const hold = (reason: string): RolloutDecision => ({
    action: 'hold',
    canaryWeight: weight,
    step: state.step,
    reason,
  });
  if (seen.requests >= config.minRequests) {
    const errorRate = seen.errors / seen.requests;
    if (errorRate > config.slo.errorRate) {
      return {
        action: 'rollback',
        canaryWeight: 0,
        step: state.step,
        reason: `canary error rate ${pct(errorRate)} (${seen.errors}/${seen.requests}) > SLO ${pct(config.slo.errorRate)} at ${weight}%`,
      };
    }
    if (seen.p99Ms !== undefined && seen.p99Ms > config.slo.latencyMs) {
      return {
        action: 'rollback',
        canaryWeight: 0,
        step: state.step,
        reason: `canary p99 ${seen.p99Ms.toFixed(1)} ms > SLO ${config.slo.latencyMs} ms at ${weight}% (${seen.requests} requests)`,
      };
    }
  }
  // Hold reasons name the step, what it waits for and what it has: `flotilla status` shows them.
  const at = `step ${state.step + 1}/${config.steps.length} (${weight}%)`;
  const elapsed = now - state.stepStartedAt;
  if (elapsed < config.intervalMs)
    return hold(
      `${at} runs ${(elapsed / 1000).toFixed(1)}s of ${config.intervalMs / 1000}s; ${seen.requests} of ${config.minRequests} canary requests so far`,
    );
  if (seen.requests < config.minRequests) {
    return hold(`${at} waits for ${config.minRequests} canary requests, has ${seen.requests}`);
  }
  const health = `error rate ${pct(seen.errors / seen.requests)}, p99 ${seen.p99Ms?.toFixed(1) ?? '-'} ms over ${seen.requests} requests`;
  const next = state.step + 1;
  if (next >= config.steps.length)
    return { action: 'promote', canaryWeight: 100, step: state.step, reason: `healthy at 100%: ${health}` };
  return {
    action: 'advance',
    canaryWeight: config.steps[next]!,
    step: next,
    reason: `healthy at ${weight}% (${health}) -> ${config.steps[next]}%`,
  };
}
