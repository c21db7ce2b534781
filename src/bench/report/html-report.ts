import { readText, STATIC_DIR, UPLOT_FILES } from '../../ui/index.js';
import type { BenchResult } from '../drive/run-bench.js';
import { type BenchContext, levelName } from './context.js';
import { escapeXml as esc } from './svg-chart.js';
import { benchTable } from './table.js';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:20px 24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.chart{width:100%;margin:14px 0}.meta{color:#555}pre{background:#f7f7f7;padding:8px;overflow:auto}`;

function htmlTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const th = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('\n');
  return `<table><tr>${th}</tr>\n${trs}</table>`;
}

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/** What the report's script draws: one entry per chart, in order. */
export interface ReportChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly { readonly label: string; readonly color: string; readonly dash?: boolean }[];
  /** `[xs, ...ys]`, as uPlot takes it. */
  readonly data: readonly (readonly (number | null)[])[];
  readonly hLines?: readonly { readonly y: number; readonly label: string }[];
  readonly markers?: readonly { readonly x: number; readonly label: string; readonly color?: string }[];
  readonly xTicks?: readonly { readonly x: number; readonly label: string }[];
  readonly height?: number;
}

/** The charts of a run (pure: the page's script only draws them). */
export function reportCharts(result: BenchResult, ctx: BenchContext): ReportChart[] {
  const t0 = result.windows[0]?.startMs ?? 0;
  const at = (w: BenchResult['windows'][number]): number => (w.startMs + w.durationMs - t0) / 1000;
  const name = levelName(ctx.plan);
  // Levels are labelled by their value (`concurrency 4`); endpoint switches by endpoint number.
  const markers = [
    ...result.windows
      .filter((w, i) => i > 0 && w.index === 0)
      .map((w) => ({
        x: (w.startMs - t0) / 1000,
        label: `${name} ${result.levels[w.level]?.value}`,
        color: '#888',
      })),
    ...result.events.flatMap((e) =>
      e.kind === 'endpoint-switch'
        ? [{ x: e.atMs / 1000, label: `-> #${ctx.endpoints.indexOf(e.to) + 1}`, color: '#a0a' }]
        : [],
    ),
  ];
  const xs = result.windows.map(at);
  const threshold = ctx.plan.latencyThresholdMs;
  const charts: ReportChart[] = [
    {
      title: 'Latency per window',
      xLabel: 'time (s)',
      yLabel: 'latency (ms)',
      series: [
        { label: 'p50', color: '#1f77b4' },
        { label: 'p90', color: '#2ca02c' },
        { label: 'p99', color: '#d62728' },
      ],
      data: [
        xs,
        result.windows.map((w) => w.latency.p50Ms),
        result.windows.map((w) => w.latency.p90Ms),
        result.windows.map((w) => w.latency.p99Ms),
      ],
      markers,
      ...(threshold !== undefined ? { hLines: [{ y: threshold, label: `threshold ${threshold} ms` }] } : {}),
    },
    {
      title: 'Throughput per window',
      xLabel: 'time (s)',
      yLabel: 'requests/s',
      series: [
        { label: 'answered/s', color: '#1f77b4' },
        { label: 'sent/s', color: '#ff7f0e', dash: true },
        { label: 'errors/s', color: '#d62728' },
      ],
      data: [
        xs,
        result.windows.map((w) => w.throughput),
        result.windows.map((w) => (w.sent * 1000) / w.durationMs),
        result.windows.map((w) => (w.errors * 1000) / w.durationMs),
      ],
      markers,
    },
  ];
  // x is -log10(1 - p): 90 % -> 1, 99 % -> 2, 99.9 % -> 3, so the tail gets room.
  const pcts = result.percentiles.filter((p) => p.percentile < 100);
  charts.push({
    title: 'Latency by percentile (whole run)',
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    series: [{ label: 'latency', color: '#9467bd' }],
    data: [pcts.map((p) => -Math.log10(1 - p.percentile / 100)), pcts.map((p) => p.ms)],
    xTicks: [0, 50, 90, 99, 99.9, 99.99].map((p) => ({ x: -Math.log10(1 - p / 100), label: `${p}%` })),
  });
  if (result.levels.length > 1) {
    const levels = result.levels.map((l) => l.value);
    charts.push(
      {
        title: `Throughput by ${name}`,
        xLabel: name,
        yLabel: 'req/s',
        series: [{ label: 'req/s', color: '#1f77b4' }],
        data: [levels, result.levels.map((l) => l.throughput)],
        xTicks: levels.map((v) => ({ x: v, label: String(v) })),
        height: 240,
      },
      {
        title: `p99 latency by ${name}`,
        xLabel: name,
        yLabel: 'p99 ms',
        series: [{ label: 'p99 ms', color: '#d62728' }],
        data: [levels, result.levels.map((l) => l.latency.p99Ms)],
        xTicks: levels.map((v) => ({ x: v, label: String(v) })),
        ...(threshold !== undefined
          ? { hLines: [{ y: threshold, label: `threshold ${threshold} ms` }] }
          : {}),
        height: 240,
      },
    );
  }
  return charts;
}

/**
 * The `--html` report: one self-contained page that opens offline (uPlot and the dashboard's own
 * chart code inlined, nothing fetched), full-width charts of latency and throughput per window,
 * latency by percentile and, for a sweep, throughput and p99 per level; then the tables.
 */
export function benchHtml(result: BenchResult, ctx: BenchContext): string {
  const t0 = result.windows[0]?.startMs ?? 0;
  const at = (w: BenchResult['windows'][number]): number => (w.startMs + w.durationMs - t0) / 1000;
  const name = levelName(ctx.plan);
  const charts = reportCharts(result, ctx);
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
  const headers = Object.entries(ctx.headers ?? {});
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flotilla bench: ${esc(ctx.model)}</title>
<style>${readText(UPLOT_FILES.css)}</style>
<style>${STYLE}</style></head>
<body>
<h1>flotilla bench: ${esc(ctx.model)}${ctx.version ? `:${esc(ctx.version)}` : ''} over ${esc(ctx.protocol)}</h1>
<p class="meta">${esc(result.startedAt.toISOString())}, ${(result.durationMs / 1000).toFixed(1)} s, endpoints ${esc(ctx.endpoints.join(', '))}; payload ${esc(ctx.payload)}${
    headers.length > 0 ? `; headers ${esc(headers.map(([k, v]) => `${k}: ${v}`).join(', '))}` : ''
  }</p>
<pre>${esc(benchTable(result, ctx))}</pre>
${charts.map((_, i) => `<div class="chart" id="chart-${i}"></div>`).join('\n')}
<h2>Windows</h2>
${htmlTable(
  [name, 'window', 'end s', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'violations', 'endpoint'],
  result.windows.map((w) => [
    result.levels[w.level]?.value ?? w.level,
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
        ['at s', 'event', name, 'window', 'detail'],
        result.events.map((e) => [
          (e.atMs / 1000).toFixed(2),
          e.kind,
          result.levels[e.level]?.value ?? e.level,
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
<script type="application/json" id="charts">${scriptJson(charts)}</script>
<script>${readText(UPLOT_FILES.js)}</script>
<script>${readText(`${STATIC_DIR}charts.js`)}</script>
<script>${readText(`${STATIC_DIR}bench-report.js`)}</script>
</body></html>
`;
}
