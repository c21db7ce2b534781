import { stabilityApplies } from '../drive/plan.js';
import type { BenchResult } from '../drive/run-bench.js';
import type { LatencySummary } from '../latency-histogram.js';
import { type BenchContext, levelName } from './context.js';

/** Percentiles as the JSON report writes them (ms, 3 decimals: the histogram keeps µs). */
export function latencyJson(l: LatencySummary): Record<string, number> {
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    mean: r(l.meanMs),
    p50: r(l.p50Ms),
    p90: r(l.p90Ms),
    p95: r(l.p95Ms),
    p99: r(l.p99Ms),
    max: r(l.maxMs),
  };
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

/**
 * The `--json` document. Top-level figures are the whole run (every request sent; latency of every
 * successful one); `levels` holds each load level's figures from its stable windows. Field names
 * are snake_case, latencies are ms.
 */
export function benchJson(result: BenchResult, ctx: BenchContext): Record<string, unknown> {
  const name = levelName(ctx.plan);
  const labeled = result.labeled > 0;
  return {
    tool: 'flotilla bench',
    started_at: result.startedAt.toISOString(),
    duration_s: round(result.durationMs / 1000),
    model: ctx.model,
    ...(ctx.version !== undefined ? { model_version: ctx.version } : {}),
    protocol: ctx.protocol,
    mode: ctx.plan.mode,
    payload: ctx.payload,
    measurement_interval_ms: ctx.plan.intervalMs,
    ...(ctx.plan.latencyThresholdMs !== undefined
      ? { latency_threshold_ms: ctx.plan.latencyThresholdMs }
      : {}),
    ...(ctx.plan.maxViolationRate !== undefined ? { max_violation_rate: ctx.plan.maxViolationRate } : {}),
    requests: result.requests,
    errors: result.errors,
    error_rate: result.requests === 0 ? 0 : round(result.errors / result.requests, 6),
    sent: result.sent,
    throughput: round(result.throughput, 2),
    latency_ms: latencyJson(result.latency),
    violations: result.violations,
    violation_rate: result.requests === 0 ? 0 : round(result.violations / result.requests, 6),
    ...(labeled
      ? {
          accuracy: round(result.correct / result.labeled, 6),
          inference_error_rate: round(1 - result.correct / result.labeled, 6),
          labeled: result.labeled,
          correct: result.correct,
        }
      : {}),
    percentiles: result.percentiles.map((p) => ({ percentile: p.percentile, latency_ms: round(p.ms) })),
    levels: result.levels.map((l) => ({
      [name]: l.value,
      // null: the level ran for a fixed time or request count, so stability was not the rule.
      stable: stabilityApplies(ctx.plan) ? l.stable : null,
      windows: l.windows,
      requests: l.requests,
      errors: l.errors,
      throughput: round(l.throughput, 2),
      send_rate: round(l.sendRate, 2),
      send_lag_ms: latencyJson(l.sendLag),
      latency_ms: latencyJson(l.latency),
      violations: l.violations,
    })),
    windows: result.windows.map((w) => ({
      level: w.level,
      index: w.index,
      start_s: round((w.startMs - (result.windows[0]?.startMs ?? 0)) / 1000),
      duration_s: round(w.durationMs / 1000),
      endpoint: ctx.endpoints[w.endpoint],
      requests: w.requests,
      errors: w.errors,
      sent: w.sent,
      throughput: round(w.throughput, 2),
      latency_ms: latencyJson(w.latency),
      violations: w.violations,
      ...(w.labeled > 0 ? { accuracy: round(w.correct / w.labeled, 6) } : {}),
    })),
    variants: [...result.variants].map(([variant, v]) => ({
      variant,
      requests: v.requests,
      errors: v.errors,
      latency_ms: latencyJson(v.histogram.summary()),
      replicas: [...v.replicas].map(([replica, r]) => ({
        replica,
        requests: r.requests,
        errors: r.errors,
        latency_ms: latencyJson(r.histogram.summary()),
      })),
    })),
    endpoints: result.endpoints.map((e) => ({
      endpoint: e.name,
      requests: e.requests,
      violations: e.violations,
    })),
    events: result.events.map((e) =>
      e.kind === 'endpoint-switch'
        ? {
            kind: e.kind,
            at_s: round(e.atMs / 1000),
            level: e.level,
            window: e.window,
            from: e.from,
            to: e.to,
            violation_rate: round(e.violationRate, 6),
          }
        : { kind: e.kind, at_s: round(e.atMs / 1000), level: e.level, window: e.window },
    ),
    error_kinds: Object.fromEntries(result.errorKinds),
  };
}
