import type { StabilityRule } from '../measure/stability.js';
import type { Distribution } from '../plan/schedule.js';

/** The load pattern of a run. */
export type LoadMode =
  /** perf_analyzer's concurrency sweep; with `requests`, each level sends exactly that many. */
  | { readonly kind: 'closed'; readonly levels: readonly number[]; readonly requests?: number }
  /** perf_analyzer's request-rate sweep (requests/s). */
  | { readonly kind: 'open'; readonly levels: readonly number[]; readonly distribution: Distribution }
  /** locust: `users` closed-loop users, `spawnRate` more per second, for `durationMs` in all. */
  | {
      readonly kind: 'users';
      readonly users: number;
      readonly spawnRate: number;
      readonly durationMs: number;
    }
  /** One request after the other, `requests` of them (seed 002's single mode). */
  | { readonly kind: 'sequential'; readonly requests: number };

/** Everything the runner needs to know, validated at the edge (cli/bench.ts). */
export interface BenchPlan {
  readonly mode: LoadMode;
  /** Window length, ms. */
  readonly intervalMs: number;
  /** Windows per level before giving up on stability. */
  readonly maxWindows: number;
  readonly stability: StabilityRule;
  /** Fixed level length instead of the stability rule (closed and open loops), ms. */
  readonly levelDurationMs?: number;
  /**
   * Load at the start of each level that is not measured, ms: connections opening and both sides'
   * JIT compiling would otherwise count as the server's latency (perf_analyzer's warm-up).
   */
  readonly warmupMs?: number;
  /** A request slower than this (or failed) violates the SLO, ms. */
  readonly latencyThresholdMs?: number;
  /** A window whose violation rate on the active endpoint exceeds this moves to the next endpoint. */
  readonly maxViolationRate?: number;
  /** Open loop: requests in flight beyond this are refused and counted as errors. */
  readonly maxInFlight: number;
}

/** Whether levels end by the stability rule (not by a fixed duration or a request count). */
export function stabilityApplies(plan: BenchPlan): boolean {
  const m = plan.mode;
  if (m.kind === 'users' || m.kind === 'sequential') return false;
  if (m.kind === 'closed' && m.requests !== undefined) return false;
  return plan.levelDurationMs === undefined;
}

/** What one load level measured (from its stable windows, or all of them for fixed-length levels). */
export interface LevelResult {
  /** Concurrency, request rate or users. */
  readonly value: number;
  readonly stable: boolean;
  /** Windows measured (the summary uses the last `stability.windows` when the rule applies). */
  readonly windows: number;
  readonly requests: number;
  readonly errors: number;
  readonly throughput: number;
  /** Requests sent per second (open loop: how well the generator kept to the rate). */
  readonly sendRate: number;
  readonly latency: import('../latency-histogram.js').LatencySummary;
  readonly sendLag: import('../latency-histogram.js').LatencySummary;
  readonly violations: number;
}

/** Something that happened during the run. */
export type BenchEvent =
  | {
      readonly kind: 'endpoint-switch';
      readonly atMs: number;
      readonly level: number;
      readonly window: number;
      readonly from: string;
      readonly to: string;
      readonly violationRate: number;
    }
  | {
      readonly kind: 'level-unstable';
      readonly atMs: number;
      readonly level: number;
      readonly window: number;
    };
