/**
 * bench/reliability: the hardening probes of issue 19 as code. Each probe starts real `flotilla
 * serve` / `gateway` / `up` processes on loopback, sends hostile or careless traffic
 * (amplification, slowloris, unread answers, partial bodies, deep nesting, a seeded fuzzer, killed
 * replicas, a soak), and reports requests sent, failed, wrong, peak RSS and the worst wait of a
 * concurrent `/v2/health/live` poller, against the bounds in bench/reliability/bounds.ts.
 * Writes bench/results/<out>.{json,md}; exits 1 when a probe does not hold.
 *
 *   npm run build && node dist/bench/reliability.js [--short] [--only a,b] [--seed 19] [--out reliability]
 */
import { execFileSync } from 'node:child_process';
import { ROOT } from '../test/helpers/paths.js';
import { numberArg } from './lib/results.js';
import { PROBES, type ProbeResult, SCALES, writeReliabilityResults } from './reliability/index.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const short = process.argv.includes('--short');
const seed = numberArg('seed', 19);
const only = arg('only')?.split(',');
const out = arg('out') ?? (short ? 'reliability-short' : 'reliability');
const unknown = (only ?? []).filter((n) => !(n in PROBES));
if (unknown.length > 0) {
  process.stderr.write(`unknown probe(s): ${unknown.join(', ')}; known: ${Object.keys(PROBES).join(', ')}\n`);
  process.exit(2);
}

const scale = short ? SCALES.short : SCALES.full;
/** Longest a probe may run (the slowest, slowloris, waits 65 s in a full run). */
const PROBE_TIMEOUT_S = short ? 120 : 240;
const t0 = performance.now();
const rows: ProbeResult[] = [];
for (const [name, probe] of Object.entries(PROBES)) {
  if (only && !only.includes(name)) continue;
  const started = performance.now();
  process.stderr.write(`reliability: ${name}…\n`);
  try {
    // A probe that hangs becomes a row that did not hold; the timer also keeps the loop alive, so
    // a promise nobody settles cannot end the process (exit code 13) before the results are written.
    let timer: NodeJS.Timeout | undefined;
    const results = await Promise.race([
      probe({ scale, short, seed }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`did not finish within ${PROBE_TIMEOUT_S} s`)),
          PROBE_TIMEOUT_S * 1000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    rows.push(...results);
    for (const r of results)
      process.stderr.write(`  ${r.probe}: ${r.held ? 'held' : 'NOT HELD'} (${r.detail})\n`);
  } catch (err) {
    // A probe that cannot run is a probe that did not hold: its row says why.
    rows.push({
      probe: name,
      sent: 0,
      failed: 0,
      wrong: 0,
      peakRssMb: 0,
      maxEventLoopDelayMs: 0,
      held: false,
      bound: 'the probe runs to the end',
      detail: `probe error: ${(err as Error).message.split('\n')[0]}`,
    });
    process.stderr.write(`  ${name}: ERROR ${(err as Error).stack}\n`);
  }
  process.stderr.write(`  (${Math.round((performance.now() - started) / 1000)} s)\n`);
}

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
} catch {
  // Not a checkout.
}
const md = writeReliabilityResults(rows, {
  name: out,
  mode: short ? 'short' : 'full',
  scale,
  seed,
  commit,
  durationS: Math.round((performance.now() - t0) / 1000),
});
process.stdout.write(md);
process.exit(rows.every((r) => r.held) ? 0 : 1);
