/** Restart delays after crashes: exponential, capped, reset after a stable run. */
export interface BackoffConfig {
  readonly baseMs: number;
  readonly maxMs: number;
  /** A replica that ran this long before crashing starts again from `baseMs`. */
  readonly resetAfterMs: number;
  /** This many crashes in a row is reported as a crash loop. */
  readonly crashLoopAfter: number;
}

export const BACKOFF_DEFAULTS: BackoffConfig = Object.freeze({
  baseMs: 200,
  maxMs: 10_000,
  resetAfterMs: 30_000,
  crashLoopAfter: 3,
});

/** The delay before restart number `consecutiveCrashes` (1 for the first), in milliseconds. */
export function restartDelay(consecutiveCrashes: number, config: BackoffConfig = BACKOFF_DEFAULTS): number {
  return Math.min(config.maxMs, config.baseMs * 2 ** Math.max(0, consecutiveCrashes - 1));
}

/** Consecutive crashes after one more, given how long the replica ran. */
export function nextCrashCount(
  previous: number,
  ranMs: number,
  config: BackoffConfig = BACKOFF_DEFAULTS,
): number {
  return ranMs >= config.resetAfterMs ? 1 : previous + 1;
}
