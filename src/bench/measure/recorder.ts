import { LatencyHistogram, type LatencySummary } from '../latency-histogram.js';
import type { Outcome } from '../target/target.js';

/** What happened in one measurement window. */
export interface WindowStats {
  readonly startMs: number;
  readonly durationMs: number;
  /** Requests finished (answered or failed) in the window. */
  readonly requests: number;
  readonly errors: number;
  /** Requests sent in the window (by when they went out). */
  readonly sent: number;
  /** Successful requests per second. */
  readonly throughput: number;
  /** Latency of the successful requests. */
  readonly latency: LatencySummary;
  /** Requests over the latency threshold or failed (0 without a threshold). */
  readonly violations: number;
  /** Per endpoint: requests and violations, for the SLO switch. */
  readonly endpoints: readonly { readonly requests: number; readonly violations: number }[];
  readonly labeled: number;
  readonly correct: number;
  /** How late the generator sent against the schedule (open loop), ms. */
  readonly sendLag: LatencySummary;
}

/** Requests, errors and latency of one variant or replica over the run. */
export interface Breakdown {
  requests: number;
  errors: number;
  readonly histogram: LatencyHistogram;
}

/** A window's numbers plus its histogram (to merge into a level's or the run's). */
export interface Cut {
  readonly stats: WindowStats;
  readonly histogram: LatencyHistogram;
}

/** Most distinct error messages kept with counts; the rest are counted under "other". */
const MAX_ERROR_KINDS = 20;

/**
 * Counts finished requests into the current window; `cut` closes the window and starts the next.
 * The hot path (`record`) touches counters and one histogram only; per-variant and per-replica
 * breakdowns are made only when answers carry the gateway's headers.
 */
export class Recorder {
  private histogram = new LatencyHistogram();
  private readonly lag = new LatencyHistogram();
  private requests = 0;
  private errors = 0;
  private sentCount = 0;
  private violations = 0;
  private labeled = 0;
  private correct = 0;
  private endpointRequests: number[];
  private endpointViolations: number[];
  /** Run totals. */
  readonly variants = new Map<string, Breakdown & { readonly replicas: Map<string, Breakdown> }>();
  readonly errorKinds = new Map<string, number>();
  private readonly thresholdUs: number;

  constructor(options: { readonly endpoints: number; readonly latencyThresholdMs?: number }) {
    this.endpointRequests = new Array(options.endpoints).fill(0);
    this.endpointViolations = new Array(options.endpoints).fill(0);
    this.thresholdUs =
      options.latencyThresholdMs === undefined ? Number.POSITIVE_INFINITY : options.latencyThresholdMs * 1000;
  }

  /** A request went out; `lagMs` is how late against its intended time (0 in closed loops). */
  sent(lagMs: number): void {
    this.sentCount++;
    if (lagMs > 0) this.lag.recordUs(lagMs * 1000);
  }

  /** A request finished; latency is from its intended send time to now. */
  record(endpoint: number, latencyMs: number, o: Outcome): void {
    const us = latencyMs * 1000;
    this.requests++;
    this.endpointRequests[endpoint]!++;
    const violated = !o.ok || us > this.thresholdUs;
    if (violated) {
      this.violations++;
      this.endpointViolations[endpoint]!++;
    }
    if (o.ok) this.histogram.recordUs(us);
    else {
      this.errors++;
      this.countError(o.error ?? 'failed');
    }
    if (o.labeled !== undefined) {
      this.labeled += o.labeled;
      this.correct += o.correct ?? 0;
    }
    if (o.variant !== undefined || o.replica !== undefined) this.breakdown(o, us);
  }

  private countError(message: string): void {
    const known = this.errorKinds.get(message);
    if (known !== undefined) this.errorKinds.set(message, known + 1);
    else if (this.errorKinds.size < MAX_ERROR_KINDS) this.errorKinds.set(message, 1);
    else this.errorKinds.set('other', (this.errorKinds.get('other') ?? 0) + 1);
  }

  private breakdown(o: Outcome, us: number): void {
    const name = o.variant ?? '(none)';
    let v = this.variants.get(name);
    if (!v) {
      v = { requests: 0, errors: 0, histogram: new LatencyHistogram(), replicas: new Map() };
      this.variants.set(name, v);
    }
    const replicaName = o.replica ?? '(none)';
    let r = v.replicas.get(replicaName);
    if (!r) {
      r = { requests: 0, errors: 0, histogram: new LatencyHistogram() };
      v.replicas.set(replicaName, r);
    }
    for (const b of [v, r]) {
      b.requests++;
      if (o.ok) b.histogram.recordUs(us);
      else b.errors++;
    }
  }

  /** Closes the window [startMs, endMs) and starts a new one. */
  cut(startMs: number, endMs: number): Cut {
    const durationMs = Math.max(endMs - startMs, 1e-3);
    const histogram = this.histogram;
    const stats: WindowStats = {
      startMs,
      durationMs,
      requests: this.requests,
      errors: this.errors,
      sent: this.sentCount,
      throughput: ((this.requests - this.errors) * 1000) / durationMs,
      latency: histogram.summary(),
      violations: this.violations,
      endpoints: this.endpointRequests.map((requests, i) => ({
        requests,
        violations: this.endpointViolations[i]!,
      })),
      labeled: this.labeled,
      correct: this.correct,
      sendLag: this.lag.summary(),
    };
    this.histogram = new LatencyHistogram();
    this.lag.reset();
    this.requests = this.errors = this.sentCount = this.violations = this.labeled = this.correct = 0;
    this.endpointRequests = this.endpointRequests.map(() => 0);
    this.endpointViolations = this.endpointViolations.map(() => 0);
    return { stats, histogram };
  }
}

/**
 * A level's drain tail joined to its last window: the answers count (they are to requests the
 * window sent), the duration stays the window's, so rates are over the time spent sending.
 */
export function mergeCuts(a: Cut, b: Cut): Cut {
  const histogram = new LatencyHistogram();
  histogram.add(a.histogram);
  histogram.add(b.histogram);
  const x = a.stats;
  const y = b.stats;
  const durationMs = x.durationMs;
  const requests = x.requests + y.requests;
  const errors = x.errors + y.errors;
  return {
    histogram,
    stats: {
      startMs: x.startMs,
      durationMs,
      requests,
      errors,
      sent: x.sent + y.sent,
      throughput: ((requests - errors) * 1000) / durationMs,
      latency: histogram.summary(),
      violations: x.violations + y.violations,
      endpoints: x.endpoints.map((e, i) => ({
        requests: e.requests + (y.endpoints[i]?.requests ?? 0),
        violations: e.violations + (y.endpoints[i]?.violations ?? 0),
      })),
      labeled: x.labeled + y.labeled,
      correct: x.correct + y.correct,
      // The tail sends nothing new worth a lag figure; keep the window's.
      sendLag: x.sendLag,
    },
  };
}
