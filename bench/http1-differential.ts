/**
 * bench/http1-differential: both HTTP/1.1 fast paths (the server's `readRequestHead`, the gateway's
 * `parseRequestHead`) against llhttp, node:http's own parser, over the corpus of
 * test/helpers/http1-corpus.ts and seeded mutations of it (byte flips; inserted CR, LF, NUL, SP,
 * colon, comma…; copied and dropped lines; cuts). Each case counts as an agreement (the same
 * reading, or a hand-off to node:http, or a refusal where llhttp refuses too), a refusal under one
 * of the listed strict rules, or a disagreement; the run fails on any disagreement.
 *
 *   npm run build && node dist/bench/http1-differential.js [--cases 100000] [--seed 18]
 */
import { CORPUS } from '../test/helpers/http1-corpus.js';
import { compare, FAST_PATHS, mutate, STRICT_RULES, seeded } from '../test/helpers/http1-differential.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const cases = numberArg('cases', 100_000);
const seed = numberArg('seed', 18);

interface Row {
  parser: string;
  cases: number;
  agree: number;
  read: number;
  handoff: number;
  refused: number;
  strict: Record<string, number>;
  disagree: number;
  examples: string[];
}

const rows: Row[] = FAST_PATHS.map((f) => ({
  parser: f.name,
  cases: 0,
  agree: 0,
  read: 0,
  handoff: 0,
  refused: 0,
  strict: {},
  disagree: 0,
  examples: [],
}));

function run(text: string): void {
  const buf = Buffer.from(text, 'latin1');
  FAST_PATHS.forEach((fast, i) => {
    const row = rows[i]!;
    const o = compare(buf, fast);
    row.cases++;
    if (o.kind === 'agree') {
      row.agree++;
      row[o.how]++;
    } else if (o.kind === 'strict') row.strict[o.rule] = (row.strict[o.rule] ?? 0) + 1;
    else {
      row.disagree++;
      if (row.examples.length < 10) row.examples.push(`${JSON.stringify(text)}: ${o.detail}`);
    }
  });
}

const started = Date.now();
const corpus = Object.values(CORPUS);
for (const text of corpus) run(text);
const random = seeded(seed);
const small = corpus.filter((t) => t.length < 2000);
for (let n = corpus.length; n < cases; n++) run(mutate(small[Math.floor(random() * small.length)]!, random));
const seconds = (Date.now() - started) / 1000;

const strictText = (r: Row): string =>
  Object.entries(r.strict)
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ') || '0';
writeBenchResults({
  name: 'http1-differential',
  description: [
    `${cases} cases per parser: the ${corpus.length} corpus cases of test/helpers/http1-corpus.ts, then seeded mutations of them (seed ${seed}),`,
    "each compared with llhttp (node:http's parser, driven in-process with node:http's settings) by test/helpers/http1-differential.ts.",
    'agree: the same method, target, header values and body boundaries for every request read (same reading; a request',
    'after a hand-off counts by what came before it), a hand-off of the first request to node:http, or a refusal where llhttp refuses too.',
    `stricter: refused (400) where llhttp accepts, under a listed rule (${Object.keys(STRICT_RULES).join(', ')}).`,
    `disagreements must be 0. Run took ${seconds.toFixed(1)} s.`,
  ],
  columns: [
    { heading: 'parser', value: (r) => r.parser },
    { heading: 'cases', value: (r) => r.cases, numeric: true },
    { heading: 'agree', value: (r) => r.agree, numeric: true },
    { heading: '… same reading', value: (r) => r.read, numeric: true },
    { heading: '… handed off or waiting', value: (r) => r.handoff, numeric: true },
    { heading: '… both refuse', value: (r) => r.refused, numeric: true },
    { heading: 'stricter than llhttp, by rule', value: strictText },
    { heading: 'disagreements', value: (r) => r.disagree, numeric: true },
  ],
  rows,
  meta: { seed, cases, seconds },
});
if (rows.some((r) => r.disagree > 0)) process.exitCode = 1;
