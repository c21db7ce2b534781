/**
 * bench/autoscale: how fast `flotilla up` wakes a variant from zero, and how fast it follows a
 * load step, against a bare Node process measured in the same run.
 *
 * 1. Baseline: a bare Node process (generated .mjs) that imports onnxruntime-node, creates an
 *    InferenceSession for examples/models/mnist/1/model.onnx and answers one OIP JSON request over
 *    node:http. Timed from spawn to the full answer of a request sent as soon as the port accepts
 *    (the client retries refused connections every 5 ms). Median of the runs.
 * 2. Cold start: `flotilla up` with one service (mnist, then ocr) whose variant scales from zero
 *    (`min: 0, initial: 0`); with the variant at zero, one request is timed from send to full
 *    answer. Between runs the variant goes back to zero (no replica process left). Also read: the
 *    `coldStartMs` the up process logs (first request -> replica ready) and the replica's own
 *    start (spawn -> ready) from `GET /_flotilla/status`.
 * 3. Load step: mnist with `min: 1, max: 4, targetConcurrency: 2`; warm at one replica, then 0 ->
 *    32 closed-loop users for 8 s; the status is polled every 50 ms for when `desired` peaks and
 *    when ready replicas reach it; every request must answer 200. Answers per second per ready
 *    replica in the first 3 s are divided by the same in the last 3 s (goal >= 0.8), in
 *    alternating paired rounds with `containerConcurrency` 0 (unlimited) and 2.
 *
 * Writes bench/results/autoscale.{json,md} and prints the md.
 *
 *   npm run build && node dist/bench/autoscale.js [--runs 5] [--step 8] [--users 32] [--step-rounds 3]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { heldOutDigits } from '../examples/training/mnist-data.js';
import type { StatusReport, VariantStatus } from '../src/fleet/index.js';
import { CLI, EXAMPLE_MODELS, ROOT } from '../test/helpers/paths.js';
import { machine, numberArg } from './lib/results.js';

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested in test/unit/bench-autoscale.test.ts)

/** Median, min and max of a sample (NaN for an empty one). */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  const xs = [...values].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { n: xs.length, median, min: xs[0]!, max: xs[xs.length - 1]! };
}

/** The `key=value` fields of one log line of the flotilla logger (values may be JSON-quoted). */
export function logFields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(?:^|\s)([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = m[2]!;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw.slice(1, -1);
      }
    }
    out[m[1]!] = value;
  }
  return out;
}

/** Every `coldStartMs=N` the up process logged, in order. */
export function coldStartsFromLog(log: string): number[] {
  return log
    .split('\n')
    .filter((l) => l.includes('coldStartMs='))
    .map((l) => Number(logFields(l)['coldStartMs']))
    .filter((n) => Number.isFinite(n));
}

/** One poll of a variant's scale. `atMs` is the status report's own clock. */
export interface ScaleSample {
  readonly atMs: number;
  readonly desired: number;
  readonly ready: number;
}

/** Times after a load step (ms after `stepAtMs`), from status samples. */
export interface StepTimings {
  readonly before: { readonly desired: number; readonly ready: number };
  readonly peakDesired: number;
  /** First sample with desired above what it was before the step. */
  readonly firstScaleUpMs: number | undefined;
  /** First sample with desired at its peak. */
  readonly desiredPeakMs: number | undefined;
  /** First sample, at or after the peak, with ready replicas >= the peak. */
  readonly readyAtPeakMs: number | undefined;
}

export function stepTimings(samples: readonly ScaleSample[], stepAtMs: number): StepTimings {
  const sorted = [...samples].sort((a, b) => a.atMs - b.atMs);
  const prior = sorted.filter((s) => s.atMs < stepAtMs).at(-1);
  const after = sorted.filter((s) => s.atMs >= stepAtMs);
  const before = prior ?? after[0] ?? { desired: 0, ready: 0 };
  const peakDesired = Math.max(before.desired, ...after.map((s) => s.desired));
  const rel = (s: ScaleSample | undefined): number | undefined =>
    s === undefined ? undefined : s.atMs - stepAtMs;
  const up = after.find((s) => s.desired > before.desired);
  const peak = after.find((s) => s.desired === peakDesired);
  const ready = peak ? after.find((s) => s.atMs >= peak.atMs && s.ready >= peakDesired) : undefined;
  return {
    before: { desired: before.desired, ready: before.ready },
    peakDesired,
    firstScaleUpMs: rel(up),
    desiredPeakMs: peakDesired > before.desired ? rel(peak) : undefined,
    readyAtPeakMs: peakDesired > before.desired ? rel(ready) : undefined,
  };
}

/** Completions in each whole second after the start (`offsetsMs`: completion times after it); a partial last second is left out. */
export function perSecond(offsetsMs: readonly number[], durationMs: number): number[] {
  const buckets = new Array<number>(Math.max(1, Math.floor(durationMs / 1000))).fill(0);
  for (const t of offsetsMs) {
    const i = Math.floor(t / 1000);
    if (i >= 0 && i < buckets.length) buckets[i]!++;
  }
  return buckets;
}

/**
 * Answers per second per ready replica over [fromMs, toMs) after a step at `stepAtMs`: the
 * completions in it (`offsetsMs`, ms after the step) ÷ ∫ ready replicas dt, ready read from the
 * status samples and held between them (before the first sample, the first sample's). Undefined
 * when no replica was ready in the interval or it is empty.
 */
export function perReadyReplicaRate(
  offsetsMs: readonly number[],
  samples: readonly ScaleSample[],
  stepAtMs: number,
  fromMs: number,
  toMs: number,
): number | undefined {
  if (toMs <= fromMs || samples.length === 0) return undefined;
  const rel = [...samples]
    .map((s) => ({ at: s.atMs - stepAtMs, ready: s.ready }))
    .sort((a, b) => a.at - b.at);
  let readyMs = 0;
  let t = fromMs;
  let ready = rel.filter((s) => s.at <= fromMs).at(-1)?.ready ?? rel[0]!.ready;
  for (const s of rel) {
    if (s.at <= fromMs) continue;
    if (s.at >= toMs) break;
    readyMs += ready * (s.at - t);
    t = s.at;
    ready = s.ready;
  }
  readyMs += ready * (toMs - t);
  if (readyMs <= 0) return undefined;
  const answers = offsetsMs.filter((x) => x >= fromMs && x < toMs).length;
  return answers / (readyMs / 1000);
}

/** CPU time (clock ticks) of the whole machine and of this process with its reaped descendants. */
export interface CpuMark {
  readonly atMs: number;
  readonly busyTicks: number;
  readonly mineTicks: number;
}

/** Busy ticks from /proc/stat's `cpu` line (user nice system idle iowait irq softirq steal ...). */
export function busyTicksOf(procStat: string): number {
  const f = (procStat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (f[i] ?? 0), 0);
}

/** utime + stime + cutime + cstime from /proc/self/stat (fields 14-17; the name may hold spaces). */
export function ownTicksOf(selfStat: string): number {
  const f = selfStat
    .slice(selfStat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // After the name, field 3 (state) is index 0: utime..cstime are fields 14..17.
  return (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0);
}

/** Cores other processes kept busy on average between two marks (Linux clock ticks are 1/100 s). */
export function othersCores(a: CpuMark | undefined, b: CpuMark | undefined): number | undefined {
  if (!a || !b || b.atMs <= a.atMs) return undefined;
  const others = b.busyTicks - a.busyTicks - (b.mineTicks - a.mineTicks);
  return Math.max(0, others / 100 / ((b.atMs - a.atMs) / 1000));
}

// ---------------------------------------------------------------------------------------------
// Processes: every child is tracked and stopped on exit, error, signal or over-budget.

const runs = numberArg('runs', 5);
const stepS = numberArg('step', 8);
const stepUsers = numberArg('users', 32);
const stepRounds = numberArg('step-rounds', 3);
const budgetS = numberArg('budget', 420);
/** The first seconds of a load step, compared per ready replica with its last seconds. */
const EARLY_MS = 3000;
/** Steady state: the last seconds of a step, with every replica it wants ready throughout. */
const STEADY_MS = 3000;
const MAX_STEP_MS = 30_000;
const TOKEN = 'bench-autoscale-token';
const COLD_SCALE = 'min: 0, max: 1, initial: 0, scaleToZeroAfter: 1s, stableWindow: 6s';
const STEP_SCALE = 'min: 1, max: 4, targetConcurrency: 2, stableWindow: 10s';
/**
 * The load step runs with Knative's default containerConcurrency 0 (unlimited) and, paired with
 * it in alternating rounds, with 2: a hard limit equal to the target, which holds each replica to
 * the target as the activator did before issue 17 while replicas were starting.
 */
const STEP_CONTAINER_CONCURRENCY = [0, 2] as const;
/** A variant at zero sits idle this long before run 1 (as it would between real requests). */
const SETTLE_MS = 2000;
const MNIST_FILE = join(EXAMPLE_MODELS, 'mnist', '1', 'model.onnx');
const children = new Set<ChildProcess>();
/** Replica pids seen in status reports: checked gone between runs, killed if left at the end. */
const replicaPids = new Set<number>();
const started = Date.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A mark at a section boundary, when every child of the section has exited and been reaped. */
function cpuMark(): CpuMark | undefined {
  try {
    return {
      atMs: Date.now(),
      busyTicks: busyTicksOf(readFileSync('/proc/stat', 'utf8')),
      mineTicks: ownTicksOf(readFileSync('/proc/self/stat', 'utf8')),
    };
  } catch {
    return undefined; // not Linux
  }
}

function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. */
async function terminate(proc: ChildProcess, graceMs = 8000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The run's temporary folder (service files, FLOTILLA_HOME, the baseline script). */
let tempDir: string | undefined;

async function cleanup(): Promise<void> {
  await Promise.all([...children].map((p) => terminate(p, 5000)));
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  // Replicas run in their own process groups; `up` stops them, this only catches leftovers.
  for (const pid of replicaPids) {
    if (!alive(pid)) continue;
    process.stderr.write(`bench: replica ${pid} outlived its up process; killing it\n`);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

function remainingMs(): number {
  return started + budgetS * 1000 - Date.now();
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** One POST on a fresh connection (no keep-alive state carried between runs). */
function post(url: string, body: Buffer, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((res, rej) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': body.byteLength },
        timeout: timeoutMs,
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
        r.on('error', rej);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', rej);
    req.end(body);
  });
}

/** POSTs until the port accepts (refused connections are retried every 5 ms, as a client would). */
async function postWhenUp(url: string, body: Buffer, deadline: number): Promise<HttpAnswer> {
  for (;;) {
    try {
      return await post(url, body, Math.max(1000, deadline - Date.now()));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ECONNREFUSED' && code !== 'ECONNRESET') || Date.now() > deadline) throw err;
      await sleep(5);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Requests and the checks of their answers

interface Workload {
  readonly name: 'mnist' | 'ocr';
  readonly body: Buffer;
  /** The service file's model entry. */
  readonly model: string;
  /** Throws unless the answer is the right one. */
  check(answer: HttpAnswer): void;
}

interface OipJson {
  outputs?: { name: string; data: (number | string)[] }[];
}

function mnistWorkload(): Workload {
  const digit = heldOutDigits()[0]!;
  const body = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: Array.from(digit.pixels) }],
    }),
  );
  return {
    name: 'mnist',
    body,
    model: `{ repository: ${JSON.stringify(EXAMPLE_MODELS)}, name: mnist, version: 1 }`,
    check(a) {
      if (a.status !== 200) throw new Error(`mnist: HTTP ${a.status}: ${a.body.toString().slice(0, 300)}`);
      const out = (JSON.parse(a.body.toString()) as OipJson).outputs?.find((o) => o.data.length === 10);
      const probs = (out?.data ?? []) as number[];
      const best = probs.indexOf(Math.max(...probs));
      if (best !== digit.label) throw new Error(`mnist: answered ${best} for a ${digit.label}`);
    },
  };
}

function ocrWorkload(): Workload {
  const png = readFileSync(join(ROOT, 'examples', 'images', 'hello.png'));
  const body = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'image',
          datatype: 'BYTES',
          shape: [1],
          parameters: { content_type: 'base64' },
          data: [png.toString('base64')],
        },
      ],
      outputs: [{ name: 'text' }, { name: 'score' }],
    }),
  );
  return {
    name: 'ocr',
    body,
    model: `{ repository: ${JSON.stringify(EXAMPLE_MODELS)}, name: ocr, with: [ocr_det, ocr_cls, ocr_rec] }`,
    check(a) {
      if (a.status !== 200) throw new Error(`ocr: HTTP ${a.status}: ${a.body.toString().slice(0, 300)}`);
      const text = (JSON.parse(a.body.toString()) as OipJson).outputs?.find((o) => o.name === 'text');
      if (!text?.data.some((t) => String(t).includes('Hello')))
        throw new Error(`ocr: read ${JSON.stringify(text?.data)}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 1. The baseline: a bare Node process with onnxruntime and the model, answering one request

function baselineScript(): string {
  const ortUrl = import.meta.resolve('onnxruntime-node');
  return `import { createServer } from 'node:http';
import * as ort from ${JSON.stringify(ortUrl)};
const session = await ort.InferenceSession.create(${JSON.stringify(MNIST_FILE)});
const output = session.outputNames[0];
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const input = JSON.parse(Buffer.concat(chunks).toString()).inputs[0];
    const result = await session.run({ [input.name]: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) });
    const t = result[output];
    const json = JSON.stringify({ model_name: 'mnist', outputs: [{ name: output, datatype: 'FP32', shape: t.dims, data: Array.from(t.data) }] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  });
}).listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;
}

async function baselineRun(script: string, w: Workload): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = track(
    spawn(process.execPath, [script, String(port)], { stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  try {
    const answer = await postWhenUp(
      `http://127.0.0.1:${port}/v2/models/mnist/infer`,
      w.body,
      Date.now() + 30_000,
    );
    const ms = performance.now() - t0;
    w.check(answer);
    return ms;
  } finally {
    await terminate(proc, 3000);
  }
}

// ---------------------------------------------------------------------------------------------
// `flotilla up`

interface UpProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  log(): string;
  status(): Promise<StatusReport>;
  variant(service: string): Promise<VariantStatus>;
  stop(): Promise<void>;
}

async function startUp(dir: string, yaml: string): Promise<UpProcess> {
  const file = join(dir, 'services.yaml');
  writeFileSync(file, yaml);
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const proc = track(
    spawn(
      process.execPath,
      [CLI, 'up', file, '--port', '0', '--admin-token', TOKEN, '--log-level', 'info', '--host', '127.0.0.1'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLOTILLA_HOME: home } },
    ),
  );
  let log = '';
  proc.stderr!.setEncoding('utf8');
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`flotilla up did not listen within 30 s:\n${log}`)), 30_000);
    proc.stderr!.on('data', (d: string) => {
      log += d;
      const m = /listening http=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`flotilla up exited with ${code}:\n${log}`));
    });
  });
  const status = async (): Promise<StatusReport> => {
    const res = await fetch(`${url}/_flotilla/status`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status !== 200) throw new Error(`status: HTTP ${res.status}: ${await res.text()}`);
    const report = (await res.json()) as StatusReport;
    for (const s of report.services)
      for (const v of s.variants) for (const r of v.replicas) if (r.pid !== undefined) replicaPids.add(r.pid);
    return report;
  };
  return {
    url,
    proc,
    log: () => log,
    status,
    async variant(service) {
      const v = (await status()).services.find((s) => s.name === service)?.variants[0];
      if (!v?.scale) throw new Error(`status has no managed variant for ${service}`);
      return v;
    },
    stop: () => terminate(proc, 15_000),
  };
}

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + Math.min(timeoutMs, Math.max(1000, remainingMs()));
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The variant is at zero: nothing desired, nothing ready, and no replica process alive. */
function atZero(up: UpProcess, service: string): Promise<true> {
  return waitUntil(
    `${service} back at zero replicas`,
    30_000,
    async () => {
      const v = await up.variant(service);
      const live = v.replicas.filter(
        (r) => r.state === 'starting' || r.state === 'ready' || r.state === 'draining',
      );
      const pids = v.replicas.flatMap((r) => (r.pid !== undefined ? [r.pid] : []));
      return v.scale!.desired === 0 && v.scale!.ready === 0 && live.length === 0 && !pids.some(alive)
        ? true
        : undefined;
    },
    100,
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Cold start through `flotilla up`

let standbySeen = false;

/** Whether `up` has a standby model server child (`flotilla --standby-serve`) right now. */
function hasStandby(up: ChildProcess): boolean {
  try {
    const out = execFileSync('ps', ['-o', 'args=', '--ppid', String(up.pid)], { encoding: 'utf8' });
    return out.includes('--standby-serve');
  } catch {
    return false; // no children, or no ps
  }
}

interface ColdRun {
  readonly run: number;
  /** Send -> full answer of the first request to a variant at zero. */
  readonly firstResponseMs: number;
  /** What the up process logged: first request -> replica ready. */
  readonly loggedColdStartMs: number | undefined;
  /** The replica's own start (spawn -> ready), from the status report. */
  readonly replicaStartMs: number | undefined;
  /** The variant was back at zero through a restart of `up` instead of scale-to-zero. */
  readonly restartedUp: boolean;
  /** Time the variant took to go back to zero after this run (ms; undefined after the last). */
  readonly backToZeroMs: number | undefined;
}

function coldYaml(w: Workload): string {
  return `services:
  ${w.name}:
    path: /${w.name}
    variants:
      - tag: stable
        model: ${w.model}
        scale: { ${COLD_SCALE} }
`;
}

async function coldStarts(w: Workload, dir: string): Promise<ColdRun[]> {
  const yaml = coldYaml(w);
  let up = await startUp(dir, yaml);
  const out: ColdRun[] = [];
  try {
    await atZero(up, w.name);
    await sleep(SETTLE_MS);
    standbySeen ||= hasStandby(up.proc);
    for (let run = 1; run <= runs; run++) {
      const logBefore = up.log().length;
      const t0 = performance.now();
      const answer = await post(`${up.url}/${w.name}/v2/models/${w.name}/infer`, w.body, 60_000);
      const firstResponseMs = performance.now() - t0;
      w.check(answer);
      // The cold-start line is logged when the replica is ready, before the answer: it is there.
      const logged = coldStartsFromLog(up.log().slice(logBefore))[0];
      const v = await up.variant(w.name);
      const replicaStartMs = v.replicas.find((r) => r.state === 'ready')?.startMs;
      let restartedUp = false;
      let backToZeroMs: number | undefined;
      if (run < runs) {
        const z0 = performance.now();
        try {
          await atZero(up, w.name);
          backToZeroMs = performance.now() - z0;
        } catch (err) {
          process.stderr.write(`bench: ${(err as Error).message}; restarting flotilla up\n`);
          await up.stop();
          up = await startUp(dir, yaml);
          await atZero(up, w.name);
          await sleep(SETTLE_MS);
          restartedUp = true;
        }
      }
      out.push({
        run,
        firstResponseMs,
        loggedColdStartMs: logged,
        replicaStartMs,
        restartedUp,
        backToZeroMs,
      });
      process.stderr.write(
        `bench: ${w.name} cold start ${run}/${runs}: ${firstResponseMs.toFixed(0)} ms to the answer, logged coldStartMs=${logged}, replica start ${replicaStartMs} ms\n`,
      );
      if (remainingMs() < 60_000 && run < runs) {
        process.stderr.write(`bench: time budget short; stopping ${w.name} after ${run} runs\n`);
        break;
      }
    }
  } finally {
    await up.stop();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. Load step

interface StepResult {
  readonly containerConcurrency: number;
  readonly round: number;
  readonly users: number;
  readonly durationS: number;
  readonly requests: number;
  readonly ok: number;
  readonly lost: number;
  readonly lostBy: Record<string, number>;
  readonly throughput: number;
  readonly perSecond: number[];
  readonly latencyMs: Summary & { readonly p99: number };
  readonly timings: StepTimings;
  readonly samples: number;
  readonly replicaStartMs: number[];
  readonly events: string[];
  /** Answers/s per ready replica in the first EARLY_MS of the step, and in its last STEADY_MS. */
  readonly earlyPerReplica: number | undefined;
  readonly steadyPerReplica: number | undefined;
  /** early ÷ steady (goal >= 0.8 with containerConcurrency 0). */
  readonly earlyToSteady: number | undefined;
}

async function loadStep(
  w: Workload,
  dir: string,
  containerConcurrency: number,
  round: number,
): Promise<StepResult> {
  const up = await startUp(
    dir,
    `services:
  step:
    path: /mnist
    variants:
      - tag: stable
        model: ${w.model}
        scale: { ${STEP_SCALE}, containerConcurrency: ${containerConcurrency} }
`,
  );
  const path = '/mnist/v2/models/mnist/infer';
  const pool = new Pool(up.url, { connections: stepUsers, pipelining: 1 });
  try {
    await waitUntil('one ready replica', 60_000, async () =>
      (await up.variant('step')).scale!.ready >= 1 ? true : undefined,
    );
    // Warm: the gateway's code paths, the connection pool and the replica's session.
    for (let i = 0; i < 20; i++) {
      const res = await pool.request({
        path,
        method: 'POST',
        body: w.body,
        headers: { 'content-type': 'application/json' },
      });
      w.check({ status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) });
    }
    await sleep(500);
    const samples: ScaleSample[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = Date.now();
        try {
          const report = await up.status();
          const scale = report.services.find((s) => s.name === 'step')?.variants[0]?.scale;
          if (scale) samples.push({ atMs: report.atMs, desired: scale.desired, ready: scale.ready });
        } catch {
          // A status poll that fails under load is skipped; the next one counts.
        }
        await sleep(Math.max(0, 50 - (Date.now() - t)));
      }
    })();
    await sleep(200);
    const stepAt = Date.now();
    const t0 = performance.now();
    // The step lasts `--step` seconds, and longer when replicas are still starting: until the
    // ready replicas have stood at the peak of desired for STEADY_MS (what "steady" measures),
    // at most MAX_STEP_MS.
    const minEnd = t0 + stepS * 1000;
    const end = (): number => {
      const t = stepTimings(samples, stepAt);
      // No scale-up (yet): steady from the start as far as replicas go.
      const ready = t.peakDesired > t.before.desired ? t.readyAtPeakMs : 0;
      const steadyEnd = ready === undefined ? Number.POSITIVE_INFINITY : t0 + ready + STEADY_MS;
      return Math.min(t0 + MAX_STEP_MS, Math.max(minEnd, steadyEnd));
    };
    // Re-read every 100 ms rather than per request (the samples are sorted each time).
    let endAt = end();
    const endTimer = setInterval(() => {
      endAt = end();
    }, 100);
    const completions: number[] = [];
    const latencies: number[] = [];
    const lostBy: Record<string, number> = {};
    let requests = 0;
    const user = async (): Promise<void> => {
      while (performance.now() < endAt) {
        const s = performance.now();
        requests++;
        try {
          const res = await pool.request({
            path,
            method: 'POST',
            body: w.body,
            headers: { 'content-type': 'application/json' },
            headersTimeout: 30_000,
            bodyTimeout: 30_000,
          });
          await res.body.dump();
          if (res.statusCode === 200) {
            const now = performance.now();
            completions.push(now - t0);
            latencies.push(now - s);
          } else lostBy[`HTTP ${res.statusCode}`] = (lostBy[`HTTP ${res.statusCode}`] ?? 0) + 1;
        } catch (err) {
          const key = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          lostBy[key] = (lostBy[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: stepUsers }, user));
    clearInterval(endTimer);
    const elapsedMs = performance.now() - t0;
    // Replicas may still be starting: keep polling until ready reaches the peak (or 15 s).
    await waitUntil(
      'ready replicas at the peak of desired',
      15_000,
      async () => {
        const t = stepTimings(samples, stepAt);
        return t.readyAtPeakMs !== undefined ? true : undefined;
      },
      100,
    ).catch(() => undefined);
    polling = false;
    await poller;
    const report = await up.status();
    const variant = report.services.find((s) => s.name === 'step')?.variants[0];
    const lat = [...latencies].sort((a, b) => a - b);
    const lost = Object.values(lostBy).reduce((a, b) => a + b, 0);
    const earlyPerReplica = perReadyReplicaRate(completions, samples, stepAt, 0, EARLY_MS);
    const steadyPerReplica = perReadyReplicaRate(
      completions,
      samples,
      stepAt,
      Math.max(EARLY_MS, elapsedMs - STEADY_MS),
      elapsedMs,
    );
    return {
      containerConcurrency,
      round,
      earlyPerReplica,
      steadyPerReplica,
      earlyToSteady:
        earlyPerReplica !== undefined && steadyPerReplica ? earlyPerReplica / steadyPerReplica : undefined,
      users: stepUsers,
      durationS: elapsedMs / 1000,
      requests,
      ok: completions.length,
      lost,
      lostBy,
      throughput: completions.length / (elapsedMs / 1000),
      perSecond: perSecond(completions, elapsedMs),
      latencyMs: {
        ...summarize(lat),
        p99: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? Number.NaN,
      },
      timings: stepTimings(samples, stepAt),
      samples: samples.length,
      replicaStartMs: (variant?.replicas ?? []).flatMap((r) => (r.startMs !== undefined ? [r.startMs] : [])),
      events: report.events
        .filter((e) => e.atMs >= stepAt)
        .map((e) => `+${e.atMs - stepAt} ms ${e.kind}: ${e.message}`),
    };
  } finally {
    await pool.close().catch(() => undefined);
    await up.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Results

const f0 = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(0));
const f2 = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(2));

function table(
  headings: readonly string[],
  numeric: readonly boolean[],
  rows: readonly (readonly string[])[],
): string[] {
  return [
    `| ${headings.join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

interface ColdRow {
  readonly what: string;
  readonly runsMs: number[];
  readonly firstResponse: Summary;
  readonly ratioToBaseline: number;
  readonly loggedColdStart: Summary | undefined;
  readonly replicaStart: Summary | undefined;
  /** Cores other processes on the machine kept busy while this row was measured. */
  readonly othersCores: number | undefined;
}

function coldRow(what: string, xs: ColdRun[], baseline: Summary, othersCores: number | undefined): ColdRow {
  const firstResponse = summarize(xs.map((r) => r.firstResponseMs));
  return {
    what,
    runsMs: xs.map((r) => Math.round(r.firstResponseMs)),
    firstResponse,
    ratioToBaseline: firstResponse.median / baseline.median,
    loggedColdStart: summarize(
      xs.flatMap((r) => (r.loggedColdStartMs !== undefined ? [r.loggedColdStartMs] : [])),
    ),
    replicaStart: summarize(xs.flatMap((r) => (r.replicaStartMs !== undefined ? [r.replicaStartMs] : []))),
    othersCores,
  };
}

function writeResults(r: {
  baselineMs: number[];
  coldMnist: ColdRun[];
  coldOcr: ColdRun[];
  steps: StepResult[];
  stepError: string | undefined;
  loadBefore: number[];
  loadAfter: number[];
  startedAt: Date;
  totalS: number;
  standby: boolean;
  /** Cores other processes kept busy, per section. */
  busy: Record<'baseline' | 'mnist' | 'ocr' | 'step' | 'whole', number | undefined>;
}): void {
  const m = machine();
  const baseline = summarize(r.baselineMs);
  const rows: ColdRow[] = [
    {
      what: 'bare node: onnxruntime-node + mnist/1, node:http (baseline)',
      runsMs: r.baselineMs.map((x) => Math.round(x)),
      firstResponse: baseline,
      ratioToBaseline: 1,
      loggedColdStart: undefined,
      replicaStart: undefined,
      othersCores: r.busy.baseline,
    },
    coldRow('flotilla up, mnist (v1), from zero', r.coldMnist, baseline, r.busy.mnist),
    coldRow('flotilla up, ocr (+ ocr_det, ocr_cls, ocr_rec), from zero', r.coldOcr, baseline, r.busy.ocr),
  ];
  const s = r.steps[0];
  const byCc = STEP_CONTAINER_CONCURRENCY.map((cc) => {
    const xs = r.steps.filter((x) => x.containerConcurrency === cc);
    return {
      cc,
      steps: xs,
      ratio: summarize(xs.flatMap((x) => (x.earlyToSteady !== undefined ? [x.earlyToSteady] : []))),
      early: summarize(xs.flatMap((x) => (x.earlyPerReplica !== undefined ? [x.earlyPerReplica] : []))),
      steady: summarize(xs.flatMap((x) => (x.steadyPerReplica !== undefined ? [x.steadyPerReplica] : []))),
    };
  });
  const command = `node dist/bench/autoscale.js${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const md = [
    '# bench/autoscale',
    '',
    `Cold start: a request sent to a variant at zero replicas, timed from send to the full answer, ${runs} runs each;`,
    `the variant (\`scale: {${COLD_SCALE}}\`) sits at zero for ${SETTLE_MS / 1000} s before run 1; between runs it goes back`,
    'to zero by itself (its replica process gone).',
    r.standby
      ? '`flotilla up` kept a standby model server (`--standby-serve`: imported, nothing loaded) for the waking replica to adopt.'
      : 'No standby model server (`--standby-serve`) was seen under `flotilla up`: every replica started from a new process.',
    'The baseline, measured in the same run, is a bare Node process that imports onnxruntime-node, loads',
    'examples/models/mnist/1/model.onnx and answers one OIP JSON request over node:http, timed from spawn to the',
    'answer of a request sent as soon as the port accepts. There is no bare-node OCR baseline: the ocr ratio is',
    'against the mnist baseline, and the replica start column shows how much of it is loading the pipeline.',
    '`coldStartMs` is what `flotilla up` logs (first request -> replica ready); replica start is spawn -> ready from',
    '`GET /_flotilla/status`.',
    '',
    `Machine: ${m.cpus} cores (${m.cpuModel}), Node ${m.node}. Load average (1/5/15 min) before ${load(r.loadBefore)},`,
    `after ${load(r.loadAfter)}. ${r.startedAt.toISOString()}, ${r.totalS.toFixed(0)} s. Written by \`${command}\``,
    '(`npm run bench:autoscale`); do not edit by hand.',
    `"Others' cores": CPU other processes on the machine used while a row was measured, in cores (/proc/stat less this`,
    `bench and its children); ${f2(r.busy.whole)} on average over the run. Rows measured beside other work are noisier.`,
    '',
    '## Cold start (zero -> first response)',
    '',
    ...table(
      [
        'what',
        'median ms',
        'min ms',
        'max ms',
        'ratio to baseline (median)',
        'logged coldStartMs (median)',
        'replica start ms (median)',
        "others' cores",
        'runs ms',
      ],
      [false, true, true, true, true, true, true, true, false],
      rows.map((x) => [
        x.what,
        f0(x.firstResponse.median),
        f0(x.firstResponse.min),
        f0(x.firstResponse.max),
        f2(x.ratioToBaseline),
        f0(x.loggedColdStart?.median),
        f0(x.replicaStart?.median),
        f2(x.othersCores),
        x.runsMs.join(', '),
      ]),
    ),
    '',
    '## Load step',
    '',
    s
      ? `mnist v1, \`scale: {${STEP_SCALE}, containerConcurrency: N}\`, warm at ${s.timings.before.ready} ready replica; then 0 -> ${s.users} closed-loop users for ${stepS} s or until the replicas stood ready at the peak for ${STEADY_MS / 1000} s (JSON requests through the gateway), in ${stepRounds} alternating paired rounds of N = ${STEP_CONTAINER_CONCURRENCY.join(' and N = ')} (a fresh \`flotilla up\` each). Status polled every 50 ms. The activator holds each ready replica to containerConcurrency requests in flight (0 = unlimited, Knative's default); 2 equals the autoscaling target, which is how the activator held a step before issue 17 while replicas were starting. Lost: any non-200 answer or connection error. The replicas, the gateway and the clients share the machine's cores.`
      : `The load step failed: ${r.stepError}`,
    '',
    ...(s
      ? [
          '### First seconds of the step against its steady state, per ready replica',
          '',
          `Answers per second per ready replica (answers ÷ ∫ ready replicas dt) in the first ${EARLY_MS / 1000} s of the step, divided by the same in its last ${STEADY_MS / 1000} s (steady: the step goes on, up to ${MAX_STEP_MS / 1000} s, until the ready replicas have stood at the peak of desired that long); median and range over the rounds. Goal: at least 0.80 with containerConcurrency 0.`,
          '',
          ...table(
            [
              'containerConcurrency',
              'rounds',
              'first s / steady (median)',
              'min',
              'max',
              `first ${EARLY_MS / 1000} s per replica/s (median)`,
              `last ${STEADY_MS / 1000} s per replica/s (median)`,
            ],
            [true, true, true, true, true, true, true],
            byCc.map((c) => [
              String(c.cc),
              String(c.steps.length),
              f2(c.ratio.median),
              f2(c.ratio.min),
              f2(c.ratio.max),
              f0(c.early.median),
              f0(c.steady.median),
            ]),
          ),
          '',
          '### Each round',
          '',
          'The ratio to baseline divides the time until ready replicas reached the peak of desired by the bare-node cold start median.',
          '',
          ...table(
            [
              'round',
              'containerConcurrency',
              'requests',
              'lost',
              'req/s',
              'p50 ms',
              'p99 ms',
              'first scale-up ms',
              'desired peak',
              'ready at peak ms',
              'ratio to baseline cold start',
              'first s / steady',
              'answers per second',
            ],
            [true, true, true, true, true, true, true, true, true, true, true, true, false],
            r.steps.map((x) => [
              String(x.round),
              String(x.containerConcurrency),
              String(x.requests),
              String(x.lost),
              f0(x.throughput),
              f0(x.latencyMs.median),
              f0(x.latencyMs.p99),
              f0(x.timings.firstScaleUpMs),
              String(x.timings.peakDesired),
              f0(x.timings.readyAtPeakMs),
              f2((x.timings.readyAtPeakMs ?? Number.NaN) / baseline.median),
              f2(x.earlyToSteady),
              x.perSecond.join(', '),
            ]),
          ),
          '',
          `Others' cores during the load steps: ${f2(r.busy.step)}.${r.steps.some((x) => x.lost > 0) ? ` Lost by cause: ${JSON.stringify(r.steps.map((x) => x.lostBy))}.` : ''}`,
          `Replica starts (spawn -> ready, ms), first round: ${s.replicaStartMs.join(', ')}.`,
          '',
        ]
      : []),
  ].join('\n');
  const out = join(ROOT, 'bench', 'results');
  writeFileSync(join(out, 'autoscale.md'), `${md}\n`);
  writeFileSync(
    join(out, 'autoscale.json'),
    `${JSON.stringify(
      {
        bench: 'autoscale',
        date: r.startedAt.toISOString(),
        command,
        machine: m,
        loadAverage: { before: r.loadBefore, after: r.loadAfter },
        totalS: Number(r.totalS.toFixed(1)),
        runs,
        standbyModelServer: r.standby,
        othersCores: r.busy,
        coldStart: {
          baseline: {
            what: rows[0]!.what,
            runsMs: r.baselineMs.map((x) => Number(x.toFixed(1))),
            ...baseline,
          },
          mnist: { ...rows[1]!, runs: r.coldMnist },
          ocr: { ...rows[2]!, runs: r.coldOcr },
        },
        loadStep: s
          ? {
              rounds: stepRounds,
              earlyMs: EARLY_MS,
              byContainerConcurrency: byCc.map((c) => ({
                containerConcurrency: c.cc,
                earlyToSteady: c.ratio,
                earlyPerReplica: c.early,
                steadyPerReplica: c.steady,
              })),
              steps: r.steps,
            }
          : { error: r.stepError },
      },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(3)) : v),
      2,
    )}\n`,
  );
  process.stdout.write(`${md}\n`);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-autoscale-'));
  tempDir = dir;
  try {
    const mnist = mnistWorkload();
    const ocr = ocrWorkload();
    const script = join(dir, 'bare-ort-server.mjs');
    writeFileSync(script, baselineScript());
    const baselineMs: number[] = [];
    const marks = [cpuMark()];
    for (let i = 1; i <= runs; i++) {
      baselineMs.push(await baselineRun(script, mnist));
      process.stderr.write(`bench: bare node cold start ${i}/${runs}: ${baselineMs.at(-1)!.toFixed(0)} ms\n`);
    }
    marks.push(cpuMark());
    const coldMnist = await coldStarts(mnist, mkdirIn(dir, 'cold-mnist'));
    marks.push(cpuMark());
    const coldOcr = await coldStarts(ocr, mkdirIn(dir, 'cold-ocr'));
    marks.push(cpuMark());
    const steps: StepResult[] = [];
    let stepError: string | undefined;
    try {
      // Alternating paired rounds: 0 then 2, 2 then 0, ... so drift on the machine hits both.
      for (let round = 1; round <= stepRounds; round++) {
        const order =
          round % 2 === 1 ? STEP_CONTAINER_CONCURRENCY : [...STEP_CONTAINER_CONCURRENCY].reverse();
        for (const cc of order) {
          const step = await loadStep(mnist, mkdirIn(dir, `step-${round}-${cc}`), cc, round);
          steps.push(step);
          process.stderr.write(
            `bench: load step ${round}/${stepRounds}, containerConcurrency ${cc}: first ${EARLY_MS} ms / steady per ready replica ${f2(step.earlyToSteady)}, ${JSON.stringify(step.timings)}, lost ${step.lost}\n`,
          );
        }
        if (remainingMs() < 60_000 && round < stepRounds) {
          process.stderr.write(`bench: time budget short; stopping the load step after ${round} rounds\n`);
          break;
        }
      }
    } catch (err) {
      stepError = (err as Error).message;
      process.stderr.write(`bench: load step failed: ${stepError}\n`);
    }
    marks.push(cpuMark());
    const busy = {
      baseline: othersCores(marks[0], marks[1]),
      mnist: othersCores(marks[1], marks[2]),
      ocr: othersCores(marks[2], marks[3]),
      step: othersCores(marks[3], marks[4]),
      whole: othersCores(marks[0], marks[4]),
    };
    writeResults({
      baselineMs,
      coldMnist,
      coldOcr,
      steps,
      stepError,
      loadBefore,
      loadAfter: loadavg(),
      startedAt,
      totalS: (Date.now() - started) / 1000,
      standby: standbySeen,
      busy,
    });
    const lost = steps.reduce((n, x) => n + x.lost, 0);
    if (lost > 0) {
      process.stderr.write(`bench: ${lost} requests lost during the load steps (must be 0)\n`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function mkdirIn(dir: string, name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
}

const invoked = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  const watchdog = setTimeout(
    () => {
      process.stderr.write(`bench: over the ${budgetS + 30} s limit; stopping every process\n`);
      void cleanup().finally(() => process.exit(2));
    },
    (budgetS + 30) * 1000,
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    await main();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  } finally {
    await cleanup();
    clearTimeout(watchdog);
  }
}
