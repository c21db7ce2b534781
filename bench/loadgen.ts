/**
 * bench/loadgen: how many requests/s `flotilla bench` generates, against wrk in the same run.
 *
 * Both hit one trivial local HTTP server (bench/lib/bare-http-server.ts: reads the body, answers a
 * canned reply) with the same OIP v2 JSON request and the same number of requests in flight, in
 * alternating rounds; the figure is the best round of each, as a ratio to wrk. The server takes a
 * core of the two, so whichever generator costs less CPU per request leaves it more room: CPU
 * µs/request is reported beside each figure. wrk comes from Debian (installed here if missing).
 * Writes bench/results/loadgen.{json,md}.
 *
 *   npm run build && node dist/bench/loadgen.js [--duration 5] [--rounds 3] [--concurrency 64]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHttpCall } from '../src/bench/index.js';
import type { Tensor } from '../src/core/index.js';
import { CLI, ROOT } from '../test/helpers/paths.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const durationS = numberArg('duration', 5);
const rounds = numberArg('rounds', 3);
const concurrency = numberArg('concurrency', 64);

const metadata = {
  name: 'trivial',
  versions: ['1'],
  platform: 'none',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 4] }],
};
const x: Tensor = {
  name: 'x',
  datatype: 'FP32',
  shape: [1, 4],
  data: Float32Array.from([0.5, 0.25, 0.125, 1]),
};

/** wrk from Debian's package, installed on first use. */
function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 after printing; only a missing binary is ENOENT.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
    process.stderr.write('installing wrk from Debian (apt-get install -y wrk)\n');
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  }
}

async function startServer(): Promise<{ port: number; proc: ChildProcess }> {
  const reply = Buffer.from(JSON.stringify(metadata)).toString('base64');
  const proc = spawn(process.execPath, [join(ROOT, 'dist/bench/lib/bare-http-server.js'), reply], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const m = /port=(\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { port, proc };
}

/** Runs a command under bash and returns its output and its children's CPU seconds (bash `times`). */
function timed(command: string): { out: string; cpuS: number } {
  // The command's own exit status is kept (a bare `; times` would hide a failure behind times's 0).
  const text = execFileSync('bash', ['-c', `${command}; rc=$?; times; exit $rc`], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const lines = text.trimEnd().split('\n');
  const children = lines.at(-1)!.match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuS = children.reduce((a, t) => {
    const [, m, s] = /(\d+)m([\d.]+)s/.exec(t)!;
    return a + Number(m) * 60 + Number(s);
  }, 0);
  return { out: lines.slice(0, -2).join('\n'), cpuS };
}

interface Sample {
  readonly tool: string;
  readonly rps: number;
  readonly cpuUsPerRequest: number;
}

function runWrk(port: number, lua: string): Sample {
  const { out, cpuS } = timed(
    `wrk -t1 -c${concurrency} -d${durationS}s -s ${lua} http://127.0.0.1:${port}/v2/models/trivial/infer`,
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const total = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { tool: 'wrk -t1', rps, cpuUsPerRequest: (cpuS * 1e6) / total };
}

function runFlotilla(port: number, pipelining: number, dir: string): Sample {
  // A fresh file per run, so a failed run cannot be read as the previous one's figures.
  const json = join(dir, `flotilla-${pipelining}-${Date.now()}.json`);
  // --concurrency in flight either way: with pipelining, fewer sockets carry them.
  const { cpuS } = timed(
    `${process.execPath} ${CLI} bench --url http://127.0.0.1:${port} --model trivial --concurrency ${concurrency} --pipelining ${pipelining} --duration ${durationS} --measurement-interval 1000 --json ${json} > /dev/null`,
  );
  const j = JSON.parse(readFileSync(json, 'utf8')) as {
    requests: number;
    errors: number;
    levels: { throughput: number }[];
  };
  if (j.errors > 0) throw new Error(`flotilla bench saw ${j.errors} errors`);
  return {
    tool: `flotilla bench${pipelining > 1 ? ` --pipelining ${pipelining}` : ''}`,
    rps: j.levels[0]!.throughput,
    // The whole process, start-up and metadata fetch included, as for wrk.
    cpuUsPerRequest: (cpuS * 1e6) / j.requests,
  };
}

interface Row {
  readonly tool: string;
  readonly best: number;
  readonly rounds: readonly number[];
  readonly cpuUsPerRequest: number;
  ratio: number;
}

async function main(): Promise<void> {
  ensureWrk();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-loadgen-'));
  const call = encodeHttpCall('oip', { model: 'trivial', outputs: [] }, [x]);
  const lua = join(dir, 'post.lua');
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.body = '${call.body.toString()}'\nwrk.headers["content-type"] = "application/json"\n`,
  );
  writeFileSync(
    join(dir, 'input.json'),
    JSON.stringify({ x: { datatype: 'FP32', shape: [1, 4], data: [...x.data] } }),
  );
  const server = await startServer();
  const samples: Sample[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      samples.push(runWrk(server.port, lua));
      samples.push(runFlotilla(server.port, 1, dir));
      samples.push(runFlotilla(server.port, 4, dir));
      process.stderr.write(
        `round ${r + 1}: ${samples
          .slice(-3)
          .map((s) => `${s.tool} ${Math.round(s.rps)}`)
          .join(', ')}\n`,
      );
    }
  } finally {
    server.proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: Row[] = [...new Set(samples.map((s) => s.tool))].map((tool) => {
    const mine = samples.filter((s) => s.tool === tool);
    const best = mine.reduce((a, b) => (b.rps > a.rps ? b : a));
    return {
      tool,
      best: best.rps,
      rounds: mine.map((s) => Math.round(s.rps)),
      cpuUsPerRequest: best.cpuUsPerRequest,
      ratio: 0,
    };
  });
  const wrk = rows[0]!.best;
  for (const row of rows) row.ratio = row.best / wrk;
  writeBenchResults({
    name: 'loadgen',
    description: [
      `Requests/s generated against a trivial local HTTP server (bench/lib/bare-http-server.ts), ${concurrency} requests in flight, the same OIP v2 JSON POST, ${rounds} alternating rounds of ${durationS} s; best round of each.`,
      "Ratio: best requests/s divided by wrk's best in the same run. The server shares the two cores with the generator, so a generator's CPU per request (user+system time of the whole process over its requests, start-up included) takes room from the server. Without pipelining, `flotilla bench` is one keep-alive request per socket like wrk; with `--pipelining 4`, 16 sockets carry 4 each.",
    ],
    columns: [
      { heading: 'generator', value: (r) => r.tool },
      { heading: 'requests/s (best)', value: (r) => Math.round(r.best), numeric: true },
      { heading: 'ratio to wrk', value: (r) => r.ratio.toFixed(3), numeric: true },
      { heading: 'CPU µs/request', value: (r) => r.cpuUsPerRequest.toFixed(1), numeric: true },
      { heading: 'rounds', value: (r) => r.rounds.join(', ') },
    ],
    rows,
    meta: { concurrency, durationS, rounds },
  });
}

await main();
