/**
 * Writes the reliability suite's results: bench/results/<name>.json and .md (the table, the bounds
 * table, the run's size), as bench/lib/results.ts does for the speed benches but with a file name
 * of its own (`--out reliability-before` keeps the figures of the code before the hardening).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers/paths.js';
import { machine } from '../lib/results.js';
import { BOUNDS, type RunScale } from './bounds.js';
import type { ProbeResult } from './shared.js';

/** What the results files record besides the rows. */
export interface ReportMeta {
  /** File stem under bench/results. */
  readonly name: string;
  readonly mode: 'full' | 'short';
  readonly scale: RunScale;
  readonly seed: number;
  readonly commit: string;
  readonly durationS: number;
}

const cell = (s: string | number): string => String(s).replaceAll('|', '\\|');

/** Writes the JSON and the Markdown table; returns the Markdown. */
export function writeReliabilityResults(rows: readonly ProbeResult[], meta: ReportMeta): string {
  const m = machine();
  // A bare name goes under bench/results; a path (with a slash) is used as it is.
  const stem = meta.name.includes('/') ? meta.name : join(ROOT, 'bench', 'results', meta.name);
  const held = rows.filter((r) => r.held).length;
  writeFileSync(
    `${stem}.json`,
    `${JSON.stringify({ bench: 'reliability', date: new Date().toISOString(), machine: m, ...meta, bounds: BOUNDS, rows }, null, 2)}\n`,
  );
  const md = [
    `# bench/reliability (${meta.mode} run)`,
    '',
    `${held} of ${rows.length} probes held, at commit ${meta.commit}, in ${meta.durationS} s. Fuzz seed ${meta.seed}, ${meta.scale.fuzzCases} cases.`,
    'Each probe starts real `flotilla serve` / `gateway` / `up` processes on loopback (heap capped at',
    `${BOUNDS.maxOldSpaceMb} MB; any process past ${BOUNDS.killAboveRssMb} MB RSS is killed and counts as a crash).`,
    'Peak RSS: VmHWM/VmRSS of the processes under test (for `up`, the gateway and its replicas).',
    `Max health delay: the slowest answer of a \`/v2/health/live\` poller running beside the probe every ${BOUNDS.healthPollMs} ms, in its own thread.`,
    'Sent: requests (connections, for slowloris and partial bodies); failed: not answered, 5xx where 4xx was due, cut off;',
    'wrong: answered but not as expected (wrong class; for fuzz, answers slower than 1 s).',
    `Machine: ${m.cpus} cores (${m.cpuModel}), Node ${m.node}. Written by \`node dist/bench/reliability.js${meta.mode === 'short' ? ' --short' : ''}${meta.name === 'reliability' ? '' : ` --out ${meta.name}`}\`; do not edit by hand.`,
    '',
    '| probe | sent | failed | wrong | peak RSS MB | max health delay ms | bound | held | figures |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.probe} | ${r.sent} | ${r.failed} | ${r.wrong} | ${r.peakRssMb} | ${r.maxEventLoopDelayMs} | ${cell(r.bound)} | ${r.held ? 'yes' : '**no**'} | ${cell(r.detail)} |`,
    ),
    '',
    'Bounds (bench/reliability/bounds.ts):',
    '',
    '```json',
    JSON.stringify(BOUNDS, null, 2),
    '```',
    '',
  ].join('\n');
  writeFileSync(`${stem}.md`, md);
  return md;
}
