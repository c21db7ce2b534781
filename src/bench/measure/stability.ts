/** What the stability rule looks at in each window. */
export interface StabilitySample {
  /** Successful requests per second. */
  readonly throughput: number;
  /** 99th percentile latency, ms (0 when the window had no successful request). */
  readonly p99Ms: number;
}

/** perf_analyzer's rule: how many trailing windows, and how far from their mean each may be. */
export interface StabilityRule {
  /** Windows compared; default 3. */
  readonly windows: number;
  /** Allowed deviation from the mean as a fraction; default 0.1 (±10 %). */
  readonly tolerance: number;
}

/** perf_analyzer's default: the last three windows within ±10 %. */
export const DEFAULT_STABILITY: StabilityRule = { windows: 3, tolerance: 0.1 };

function within(values: readonly number[], tolerance: number): boolean {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  // All zero is steady (a target that answers nothing will not start to); a zero mean otherwise cannot be.
  if (mean === 0) return values.every((v) => v === 0);
  return values.every((v) => Math.abs(v - mean) <= tolerance * mean);
}

/**
 * Whether a load level has settled: the last `rule.windows` windows' throughput and p99 each lie
 * within `rule.tolerance` of their mean. Fewer windows than that are never stable.
 */
export function isStable(
  windows: readonly StabilitySample[],
  rule: StabilityRule = DEFAULT_STABILITY,
): boolean {
  if (windows.length < rule.windows) return false;
  const last = windows.slice(-rule.windows);
  return (
    within(
      last.map((w) => w.throughput),
      rule.tolerance,
    ) &&
    within(
      last.map((w) => w.p99Ms),
      rule.tolerance,
    )
  );
}
