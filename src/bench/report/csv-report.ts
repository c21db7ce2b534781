import { stabilityApplies } from '../drive/plan.js';
import type { BenchResult } from '../drive/run-bench.js';
import { type BenchContext, levelName } from './context.js';

function cell(v: string | number | boolean): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The `--csv` file: one row per load level, as perf_analyzer's `-f` writes (windows are in the
 * JSON). Latencies in ms.
 */
export function benchCsv(result: BenchResult, ctx: BenchContext): string {
  const header = [
    levelName(ctx.plan),
    'stable',
    'windows',
    'requests',
    'errors',
    'throughput',
    'send_rate',
    'p50_ms',
    'p90_ms',
    'p95_ms',
    'p99_ms',
    'max_ms',
    'mean_ms',
    'violations',
  ];
  const rows = result.levels.map((l) =>
    [
      l.value,
      stabilityApplies(ctx.plan) ? l.stable : '',
      l.windows,
      l.requests,
      l.errors,
      l.throughput.toFixed(2),
      l.sendRate.toFixed(2),
      l.latency.p50Ms.toFixed(3),
      l.latency.p90Ms.toFixed(3),
      l.latency.p95Ms.toFixed(3),
      l.latency.p99Ms.toFixed(3),
      l.latency.maxMs.toFixed(3),
      l.latency.meanMs.toFixed(3),
      l.violations,
    ]
      .map(cell)
      .join(','),
  );
  return `${[header.join(','), ...rows].join('\n')}\n`;
}
