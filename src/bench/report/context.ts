import type { BenchPlan } from '../drive/plan.js';
import type { Protocol } from '../target/protocols.js';

/** What was benchmarked, for the reports' headings. */
export interface BenchContext {
  readonly model: string;
  readonly version?: string;
  readonly protocol: Protocol;
  /** Endpoint names, in switching order. */
  readonly endpoints: readonly string[];
  /** Where payloads came from: `random`, `--input-data FILE` or `--dataset FILE`. */
  readonly payload: string;
  /** Payloads sent round robin. */
  readonly payloads: number;
  /** Extra request headers sent (`--header`, e.g. `host`), by lower-case name. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly plan: BenchPlan;
}

/** The name of a level's value in the current mode. */
export function levelName(plan: BenchPlan): string {
  switch (plan.mode.kind) {
    case 'closed':
      return 'concurrency';
    case 'open':
      return 'request_rate';
    case 'users':
      return 'users';
    case 'sequential':
      return 'concurrency';
  }
}
