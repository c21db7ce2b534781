import { build, type Histogram } from 'hdr-histogram-js';

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Highest latency tracked: 60 s in µs; slower answers are clamped to it rather than lost. */
const HIGHEST_US = 60_000_000;

/** An HDR histogram of latencies recorded in microseconds (3 significant digits, up to 60 s). */
export class LatencyHistogram {
  private readonly h: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });

  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  /** Records one latency in µs (the unit the histogram keeps); at least 1 µs, at most 60 s. */
  recordUs(us: number): void {
    this.h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(us))));
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  /** Recorded values. */
  get count(): number {
    return this.h.totalCount;
  }

  /** The latency at a percentile (0-100), ms; 0 when empty. */
  percentileMs(percentile: number): number {
    return this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(percentile) / 1000;
  }

  /** Forgets every value (the histogram is reused, not rebuilt: building allocates its buckets). */
  reset(): void {
    this.h.reset();
  }

  summary(): LatencySummary {
    const at = (p: number): number => this.percentileMs(p);
    return {
      count: this.h.totalCount,
      meanMs: this.h.totalCount === 0 ? 0 : this.h.mean / 1000,
      p50Ms: at(50),
      p90Ms: at(90),
      p95Ms: at(95),
      p99Ms: at(99),
      maxMs: this.h.maxValue / 1000,
    };
  }
}
