import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers/paths.js';

/** A column of a results table: its heading and how to show a row's value. */
export interface Column<R> {
  readonly heading: string;
  readonly value: (row: R) => string | number;
  /** Right-align (numbers). */
  readonly numeric?: boolean;
}

export interface BenchResults<R> {
  /** File stem under bench/results, e.g. `protocols`. */
  readonly name: string;
  /** Sentences above the table: what was measured and against what baseline. */
  readonly description: readonly string[];
  readonly columns: readonly Column<R>[];
  readonly rows: readonly R[];
  /** Extra fields for the JSON file. */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** The machine a figure was measured on, recorded beside it. */
export function machine(): Record<string, string | number> {
  return { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
}

/** Writes bench/results/<name>.json and .md (the table) and prints the table. */
export function writeBenchResults<R>(r: BenchResults<R>): void {
  const m = machine();
  const out = join(ROOT, 'bench', 'results');
  writeFileSync(
    join(out, `${r.name}.json`),
    `${JSON.stringify({ bench: r.name, date: new Date().toISOString(), machine: m, ...r.meta, rows: r.rows }, null, 2)}\n`,
  );
  const md = [
    `# bench/${r.name}`,
    '',
    ...r.description,
    `Machine: ${m.cpus} cores (${m.cpuModel}), Node ${m.node}. Written by \`node dist/bench/${r.name}.js\`; do not edit by hand.`,
    '',
    `| ${r.columns.map((c) => c.heading).join(' | ')} |`,
    `| ${r.columns.map((c) => (c.numeric ? '---:' : '---')).join(' | ')} |`,
    ...r.rows.map((row) => `| ${r.columns.map((c) => String(c.value(row))).join(' | ')} |`),
    '',
  ].join('\n');
  writeFileSync(join(out, `${r.name}.md`), md);
  process.stdout.write(md);
}

/** `--name value` from the command line, or the default. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : fallback;
}

/**
 * Replaces the README's summary of a bench (the lines between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`) with `lines`, so the figures there are written by the script too.
 */
export function writeReadmeSummary(name: string, lines: readonly string[]): void {
  const file = join(ROOT, 'README.md');
  const text = readFileSync(file, 'utf8');
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) return;
  writeFileSync(file, `${text.slice(0, start + open.length)}\n${lines.join('\n')}\n${text.slice(end)}`);
}
