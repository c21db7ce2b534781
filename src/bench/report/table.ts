import { stabilityApplies } from '../drive/plan.js';
import type { BenchResult, WindowRecord } from '../drive/run-bench.js';
import { type BenchContext, levelName } from './context.js';

const f = (v: number, d = 2): string => v.toFixed(d);

/** A text table with right-aligned numbers. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The final report on stdout: one row per level, then totals, accuracy, breakdowns and events. */
export function benchTable(result: BenchResult, ctx: BenchContext): string {
  const name = levelName(ctx.plan);
  const out: string[] = [
    `flotilla bench: ${ctx.model}${ctx.version ? `:${ctx.version}` : ''} over ${ctx.protocol} at ${ctx.endpoints.join(', ')} (${ctx.payload}, ${ctx.payloads} payload${ctx.payloads === 1 ? '' : 's'})`,
    '',
    table(
      [
        name,
        'req/s',
        'sent/s',
        'p50 ms',
        'p90 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'requests',
        'errors',
        'violations',
        'stable',
      ],
      result.levels.map((l) => [
        String(l.value),
        f(l.throughput),
        f(l.sendRate),
        f(l.latency.p50Ms, 3),
        f(l.latency.p90Ms, 3),
        f(l.latency.p95Ms, 3),
        f(l.latency.p99Ms, 3),
        f(l.latency.maxMs, 3),
        String(l.requests),
        String(l.errors),
        String(l.violations),
        stabilityApplies(ctx.plan) ? (l.stable ? 'yes' : 'no') : '-',
      ]),
    ),
    '',
    `run: ${result.requests} requests in ${f(result.durationMs / 1000)} s, ${result.errors} errors (${f(
      result.requests === 0 ? 0 : (100 * result.errors) / result.requests,
    )} %), ${f(result.throughput)} req/s, p50 ${f(result.latency.p50Ms, 3)} ms, p99 ${f(result.latency.p99Ms, 3)} ms`,
  ];
  if (ctx.plan.latencyThresholdMs !== undefined)
    out.push(
      `SLO: ${result.violations} of ${result.requests} requests over ${ctx.plan.latencyThresholdMs} ms or failed (${f(
        result.requests === 0 ? 0 : (100 * result.violations) / result.requests,
      )} %)`,
    );
  if (result.labeled > 0) {
    const acc = result.correct / result.labeled;
    out.push(
      `accuracy: ${acc.toFixed(4)} (${result.correct} of ${result.labeled} labeled rows); inference error rate ${f(100 * (1 - acc))} %`,
    );
  }
  for (const [kind, count] of result.errorKinds) out.push(`error x${count}: ${kind}`);
  for (const [variant, v] of result.variants) {
    const s = v.histogram.summary();
    out.push(
      `variant ${variant}: ${v.requests} requests, ${v.errors} errors, p50 ${f(s.p50Ms, 3)} ms, p99 ${f(s.p99Ms, 3)} ms`,
    );
    for (const [replica, r] of v.replicas)
      out.push(`  replica ${replica}: ${r.requests} requests, ${r.errors} errors`);
  }
  for (const e of result.events) out.push(eventLine(e));
  return `${out.join('\n')}\n`;
}

/** One event as a line (also printed live). */
export function eventLine(e: BenchResult['events'][number]): string {
  const at = `${(e.atMs / 1000).toFixed(1)} s`;
  if (e.kind === 'endpoint-switch')
    return `event at ${at}: violation rate ${(100 * e.violationRate).toFixed(1)} % on ${e.from}: switched to ${e.to}`;
  return `event at ${at}: level ${e.level} not stable after ${e.window + 1} windows`;
}

/** The live progress line for a window. */
export function progressLine(w: WindowRecord, levelValue: number, ctx: BenchContext): string {
  return `[${levelName(ctx.plan)} ${levelValue} w${w.index + 1}] ${f(w.throughput)} req/s  p50 ${f(w.latency.p50Ms, 3)}  p99 ${f(
    w.latency.p99Ms,
    3,
  )} ms  errors ${w.errors}${ctx.plan.latencyThresholdMs !== undefined ? `  violations ${w.violations}` : ''}  -> ${ctx.endpoints[w.endpoint]}`;
}
