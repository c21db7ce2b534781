/**
 * `flotilla status` as text, in the manner of `kubectl get`: a header line per service, a table of
 * its variants, each variant's replicas indented beneath it, then the latest decisions. Pure, so
 * it can be tested without a running fleet.
 */
import type {
  FleetEvent,
  ReplicaStatus,
  RolloutStatus,
  ServiceStatus,
  StatusReport,
  VariantStatus,
} from '../fleet/status.js';

/** Decisions shown under the tables; the full list is in `status --json`. */
const RECENT_EVENTS = 10;
const GAP = '  ';
const VARIANT_INDENT = '  ';
const REPLICA_INDENT = '    ';

const VARIANT_HEADER = [
  'TAG',
  'WEIGHT',
  'RUNS',
  'DESIRED/READY',
  'MIN-MAX',
  'INFLIGHT',
  'QUEUED',
  'REQUESTS',
  'ERRORS',
] as const;
/** STARTUP: how long the replica took from its start to ready (a cold start), not when it started. */
const REPLICA_HEADER = ['ID', 'STATE', 'PID', 'ADDRESS', 'INFLIGHT', 'RESTARTS', 'STARTUP'] as const;

/** Widest cell per column over the rows given (headers included by the caller). */
function widths(rows: readonly (readonly string[])[]): number[] {
  const out: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) out[i] = Math.max(out[i] ?? 0, cell.length);
  }
  return out;
}

/** Left-aligned cells; the last one is not padded so lines carry no trailing blanks. */
function line(indent: string, cells: readonly string[], width: readonly number[]): string {
  const last = cells.length - 1;
  return indent + cells.map((c, i) => (i === last ? c : c.padEnd(width[i] ?? 0))).join(GAP);
}

/** `90%`, `33.3%`: a weight as a share of the service's total. */
function percent(weight: number, total: number): string {
  const p = total > 0 ? (weight / total) * 100 : 0;
  return `${Math.round(p * 10) / 10}%`;
}

function runs(v: VariantStatus): string {
  return `${v.runs} ${v.modelName}${v.modelVersion !== undefined ? `:${v.modelVersion}` : ''}`;
}

/** `stable 90%, canary 10%`: each variant's share of the service's traffic. */
export function formatWeights(
  variants: readonly { readonly tag: string; readonly weight: number }[],
): string {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  return variants.map((v) => `${v.tag} ${percent(v.weight, total)}`).join(', ');
}

function variantCells(v: VariantStatus, total: number): string[] {
  const s = v.scale;
  return [
    v.tag,
    percent(v.weight, total),
    runs(v),
    s ? `${s.desired}/${s.ready}${s.panic ? ' panic' : ''}` : '-',
    s ? `${s.min}-${s.max}${s.pinned ? ' pinned' : ''}` : '-',
    String(v.inflight),
    s ? String(s.queued) : '-',
    String(v.requests),
    String(v.errors),
  ];
}

/** `850ms`, `2.4s`: cold starts span both. */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function replicaCells(r: ReplicaStatus): string[] {
  return [
    r.id,
    r.healthy === false ? `${r.state},unhealthy` : r.state,
    r.pid !== undefined ? String(r.pid) : '-',
    r.address ?? '-',
    String(r.inflight),
    r.restarts !== undefined ? String(r.restarts) : '-',
    r.startMs !== undefined ? duration(r.startMs) : '-',
  ];
}

/** `rollout: progressing 25% (step 2/4)  stable: v1  canary: v2` */
export function formatRollout(r: RolloutStatus): string {
  const step =
    r.step !== undefined && r.steps !== undefined && r.steps.length > 0
      ? ` (step ${r.step + 1}/${r.steps.length})`
      : '';
  return `rollout: ${r.phase} ${percent(r.canaryWeight, 100)}${step}  stable: ${r.stable}  canary: ${r.canary}`;
}

function serviceHeader(s: ServiceStatus): string {
  const parts = [`service ${s.name}`, `hosts: ${s.hosts.length > 0 ? s.hosts.join(', ') : '*'}`];
  if (s.path !== undefined) parts.push(`path: ${s.path}`);
  if (s.rollout) parts.push(formatRollout(s.rollout));
  return parts.join(GAP);
}

function formatService(s: ServiceStatus): string[] {
  const total = s.variants.reduce((sum, v) => sum + v.weight, 0);
  const variantRows = s.variants.map((v) => variantCells(v, total));
  const vWidth = widths([VARIANT_HEADER, ...variantRows]);
  // One width for all the service's replicas, so their columns line up across variants.
  const rWidth = widths([REPLICA_HEADER, ...s.variants.flatMap((v) => v.replicas.map(replicaCells))]);
  const out = [serviceHeader(s)];
  if (s.rollout?.lastDecision !== undefined)
    out.push(`${VARIANT_INDENT}last rollout decision: ${s.rollout.lastDecision}`);
  if (s.rollout?.holding !== undefined) out.push(`${VARIANT_INDENT}rollout holds: ${s.rollout.holding}`);
  out.push(line(VARIANT_INDENT, VARIANT_HEADER, vWidth));
  s.variants.forEach((v, i) => {
    out.push(line(VARIANT_INDENT, variantRows[i]!, vWidth));
    if (v.scale?.failure !== undefined)
      out.push(`${REPLICA_INDENT}replicas cannot start: ${v.scale.failure}`);
    if (v.replicas.length === 0) return;
    out.push(line(REPLICA_INDENT, REPLICA_HEADER, rWidth));
    for (const r of v.replicas) out.push(line(REPLICA_INDENT, replicaCells(r), rWidth));
  });
  return out;
}

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * Local wall-clock time; the date too when the event is not from the same day as `now`, since a
 * bare time would then be misleading.
 */
function clock(atMs: number, now: number): string {
  const d = new Date(atMs);
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  if (new Date(now).toDateString() === d.toDateString()) return time;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}`;
}

function formatEvents(events: readonly FleetEvent[], now: number): string[] {
  if (events.length === 0) return ['Recent decisions: none'];
  const rows = events
    .slice(-RECENT_EVENTS)
    .map((e) => [
      clock(e.atMs, now),
      e.kind,
      e.variant !== undefined ? `${e.service}/${e.variant}` : e.service,
      e.message,
    ]);
  const w = widths(rows);
  return ['Recent decisions:', ...rows.map((r) => line(VARIANT_INDENT, r, w))];
}

/** The report as aligned text, ending in a newline. `now` defaults to the report's own time. */
export function formatStatus(report: StatusReport, now: number = report.atMs): string {
  const blocks: string[][] =
    report.services.length > 0 ? report.services.map(formatService) : [['No services.']];
  blocks.push(formatEvents(report.events, now));
  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}
