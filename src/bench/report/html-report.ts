import type { BenchResult } from '../drive/run-bench.js';
import { type BenchContext, levelName } from './context.js';
import { escapeXml as esc, lineChart } from './svg-chart.js';
import { benchTable } from './table.js';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
svg{display:block;margin:8px 0;font-size:11px}svg text{fill:#333}.title{font-size:13px;font-weight:600}
.grid{stroke:#eee}.axis{stroke:#888}.ref{stroke:#d33;stroke-dasharray:4 3}.marker{stroke:#a0a;stroke-dasharray:2 3}
.level{stroke:#bbb}.reflabel{fill:#a33}.markerlabel{fill:#a0a}.levellabel{fill:#888}pre{background:#f7f7f7;padding:8px;overflow:auto}`;

function htmlTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const th = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('\n');
  return `<table><tr>${th}</tr>\n${trs}</table>`;
}

/**
 * The `--html` report: one self-contained page (inline CSS and SVG, no script, nothing fetched)
 * with latency over time, throughput over time, the latency percentile distribution and, for a
 * sweep, throughput and p99 per level; then the tables.
 */
export function benchHtml(result: BenchResult, ctx: BenchContext): string {
  const t0 = result.windows[0]?.startMs ?? 0;
  const at = (w: BenchResult['windows'][number]): number => (w.startMs + w.durationMs - t0) / 1000;
  // Switches are labelled by endpoint number (the events table names them); levels by their value.
  const name = levelName(ctx.plan);
  const markers = [
    ...result.windows
      .filter((w, i) => i > 0 && w.index === 0)
      .map((w) => ({
        x: (w.startMs - t0) / 1000,
        label: `${name} ${result.levels[w.level]?.value}`,
        kind: 'level' as const,
      })),
    ...result.events.flatMap((e) =>
      e.kind === 'endpoint-switch'
        ? [{ x: e.atMs / 1000, label: `-> #${ctx.endpoints.indexOf(e.to) + 1}` }]
        : [],
    ),
  ];
  const threshold = ctx.plan.latencyThresholdMs;
  const charts = [
    lineChart({
      title: 'Latency per window',
      xLabel: 'time (s)',
      yLabel: 'latency (ms)',
      series: [
        { name: 'p50', color: '#1f77b4', points: result.windows.map((w) => [at(w), w.latency.p50Ms]) },
        { name: 'p90', color: '#2ca02c', points: result.windows.map((w) => [at(w), w.latency.p90Ms]) },
        { name: 'p99', color: '#d62728', points: result.windows.map((w) => [at(w), w.latency.p99Ms]) },
      ],
      markers,
      ...(threshold !== undefined ? { hLines: [{ y: threshold, label: `threshold ${threshold} ms` }] } : {}),
    }),
    lineChart({
      title: 'Throughput per window',
      xLabel: 'time (s)',
      yLabel: 'requests/s',
      series: [
        { name: 'answered/s', color: '#1f77b4', points: result.windows.map((w) => [at(w), w.throughput]) },
        {
          name: 'sent/s',
          color: '#ff7f0e',
          dashed: true,
          points: result.windows.map((w) => [at(w), (w.sent * 1000) / w.durationMs]),
        },
        {
          name: 'errors/s',
          color: '#d62728',
          points: result.windows.map((w) => [at(w), (w.errors * 1000) / w.durationMs]),
        },
      ],
      markers,
    }),
    lineChart({
      title: 'Latency by percentile (whole run)',
      xLabel: 'percentile',
      yLabel: 'latency (ms)',
      // x is -log10(1 - p): 90 % -> 1, 99 % -> 2, 99.9 % -> 3, so the tail gets room.
      series: [
        {
          name: 'latency',
          color: '#9467bd',
          points: result.percentiles
            .filter((p) => p.percentile < 100)
            .map((p) => [-Math.log10(1 - p.percentile / 100), p.ms]),
        },
      ],
      xTicks: [0, 50, 90, 99, 99.9, 99.99].map((p) => ({ x: -Math.log10(1 - p / 100), label: `${p}%` })),
    }),
  ];
  if (result.levels.length > 1) {
    const levelChart = (
      title: string,
      yLabel: string,
      color: string,
      y: (l: BenchResult['levels'][number]) => number,
    ) =>
      lineChart({
        title,
        xLabel: name,
        yLabel,
        height: 240,
        series: [{ name: yLabel, color, points: result.levels.map((l) => [l.value, y(l)]) }],
      });
    charts.push(
      levelChart(`Throughput by ${name}`, 'req/s', '#1f77b4', (l) => l.throughput),
      levelChart(`p99 latency by ${name}`, 'p99 ms', '#d62728', (l) => l.latency.p99Ms),
    );
  }
  const variants = [...result.variants].flatMap(([variant, v]) => [
    [
      variant,
      '',
      v.requests,
      v.errors,
      v.histogram.summary().p50Ms.toFixed(3),
      v.histogram.summary().p99Ms.toFixed(3),
    ],
    ...[...v.replicas].map(([replica, r]) => [
      variant,
      replica,
      r.requests,
      r.errors,
      r.histogram.summary().p50Ms.toFixed(3),
      r.histogram.summary().p99Ms.toFixed(3),
    ]),
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flotilla bench: ${esc(ctx.model)}</title><style>${STYLE}</style></head>
<body>
<h1>flotilla bench: ${esc(ctx.model)}${ctx.version ? `:${esc(ctx.version)}` : ''} over ${esc(ctx.protocol)}</h1>
<p>${esc(result.startedAt.toISOString())}, ${(result.durationMs / 1000).toFixed(1)} s, endpoints ${esc(ctx.endpoints.join(', '))}</p>
<pre>${esc(benchTable(result, ctx))}</pre>
${charts.join('\n')}
<h2>Windows</h2>
${htmlTable(
  ['level', 'window', 'end s', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'violations', 'endpoint'],
  result.windows.map((w) => [
    w.level,
    w.index + 1,
    at(w).toFixed(2),
    w.requests,
    w.errors,
    w.throughput.toFixed(1),
    w.latency.p50Ms.toFixed(3),
    w.latency.p99Ms.toFixed(3),
    w.violations,
    ctx.endpoints[w.endpoint] ?? '',
  ]),
)}
${
  result.events.length > 0
    ? `<h2>Events</h2>\n${htmlTable(
        ['at s', 'event', 'level', 'window', 'detail'],
        result.events.map((e) => [
          (e.atMs / 1000).toFixed(2),
          e.kind,
          e.level,
          e.window + 1,
          e.kind === 'endpoint-switch'
            ? `violation rate ${(100 * e.violationRate).toFixed(1)} %: ${e.from} -> ${e.to}`
            : 'not stable within --max-windows',
        ]),
      )}`
    : ''
}
<h2>Endpoints</h2>
${htmlTable(
  ['#', 'endpoint', 'requests', 'violations'],
  result.endpoints.map((e, i) => [i + 1, e.name, e.requests, e.violations]),
)}
${variants.length > 0 ? `<h2>Variants and replicas</h2>\n${htmlTable(['variant', 'replica', 'requests', 'errors', 'p50 ms', 'p99 ms'], variants)}` : ''}
</body></html>
`;
}
