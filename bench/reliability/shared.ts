/**
 * Shared helpers of the reliability probes: the result type, the processes under test started
 * with a bounded heap, their RSS read from /proc (with a watchdog), and the concurrent
 * `/v2/health/live` poller that gives each probe its "max event-loop delay" figure.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { type FlotillaProcess, startServe } from '../../test/helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../../test/helpers/paths.js';
import { BOUNDS, type RunScale } from './bounds.js';
import type { HealthPollerReport } from './health-poller.js';

/** One row of the results: what a probe sent and what came back, and whether its bound held. */
export interface ProbeResult {
  readonly probe: string;
  /** Requests (or connections, for connection probes) sent. */
  readonly sent: number;
  /** Not answered, answered 5xx where 4xx was due, or cut off. */
  readonly failed: number;
  /** Answered, but not as expected (wrong class, 2xx to garbage, too slow: see `detail`). */
  readonly wrong: number;
  /** Highest RSS of the processes under test (VmHWM/VmRSS), MB. */
  readonly peakRssMb: number;
  /** Slowest answer of the concurrent `/v2/health/live` poller (every 25 ms), ms. */
  readonly maxEventLoopDelayMs: number;
  readonly held: boolean;
  /** The bound checked, in words with its numbers. */
  readonly bound: string;
  /** The figures behind `held`. */
  readonly detail: string;
}

/** What every probe is given. */
export interface ProbeOptions {
  readonly scale: RunScale;
  readonly short: boolean;
  /** The fuzzer's seed (others ignore it). */
  readonly seed: number;
}

/** A probe: one module under bench/reliability/, one or more rows. */
export type Probe = (options: ProbeOptions) => Promise<ProbeResult[]>;

/** Environment of a process under test: a bounded heap, so runaway memory ends in a crash. */
export const BOUNDED_ENV: NodeJS.ProcessEnv = {
  NODE_OPTIONS: `--max-old-space-size=${BOUNDS.maxOldSpaceMb}`,
};

/** `flotilla serve` of the example mnist model with a bounded heap (plus `args`). */
export function serveMnist(args: readonly string[] = []): Promise<FlotillaProcess> {
  return startServe(
    ['--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--poll-interval', '0', ...args],
    {
      env: BOUNDED_ENV,
    },
  );
}

/** VmRSS and VmHWM of a process in MB (undefined once it is gone). */
export function rssOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** RSS figures of a watch: the highest, and the growth over the RSS when watching began. */
export interface RssFigures {
  readonly peakRssMb: number;
  readonly extraRssMb: number;
  /** Pids the watchdog killed for passing `BOUNDS.killAboveRssMb`. */
  readonly killed: readonly number[];
  /** Every sample: ms since the start and the summed RSS of the watched processes. */
  readonly samples: readonly (readonly [number, number])[];
}

/**
 * Samples the RSS of `pids()` every `everyMs` until `stop()`; SIGKILLs a process passing
 * `BOUNDS.killAboveRssMb` (the suite must not take the machine down). Peak is VmHWM where it grew
 * during the watch, else the highest sample; extra is over the summed RSS at the start.
 */
export function watchRss(pids: () => readonly number[], everyMs = 20): { stop(): RssFigures } {
  const t0 = performance.now();
  const list = pids();
  const startRss = list.reduce((s, p) => s + (rssOf(p)?.rssMb ?? 0), 0);
  const startHwm = new Map(list.map((p) => [p, rssOf(p)?.hwmMb ?? 0]));
  const samples: [number, number][] = [];
  const killed: number[] = [];
  let current = list;
  let lastList = t0;
  const sample = (): void => {
    const now = performance.now();
    if (now - lastList > 1000) {
      current = pids();
      lastList = now;
    }
    let sum = 0;
    for (const pid of current) {
      const r = rssOf(pid);
      if (!r) continue;
      sum += r.rssMb;
      if (r.rssMb > BOUNDS.killAboveRssMb && !killed.includes(pid)) {
        killed.push(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
    }
    samples.push([Math.round(now - t0), sum]);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      let peak = Math.max(...samples.map(([, s]) => s));
      // VmHWM catches a peak between two samples, but only for a process watched from the start.
      const hwm = current.reduce((s, p) => s + (rssOf(p)?.hwmMb ?? 0), 0);
      const hwmBefore = current.reduce((s, p) => s + (startHwm.get(p) ?? 0), 0);
      if (hwm > hwmBefore && current.every((p) => startHwm.has(p))) peak = Math.max(peak, hwm);
      return {
        peakRssMb: Math.round(peak),
        extraRssMb: Math.round(Math.max(0, peak - startRss)),
        killed,
        samples,
      };
    },
  };
}

/** Starts the health poller against `url`; `stop()` resolves with its report. */
export function pollHealth(url: string): { stop(): Promise<HealthPollerReport> } {
  const worker = new Worker(new URL('./health-poller.js', import.meta.url), {
    workerData: { url, intervalMs: BOUNDS.healthPollMs },
  });
  worker.on('error', () => {});
  return {
    async stop() {
      const report = new Promise<HealthPollerReport>((resolve) => {
        worker.once('message', (m: HealthPollerReport) => resolve(m));
        worker.once('exit', () => resolve({ polls: 0, errors: 1, maxMs: Number.NaN }));
      });
      worker.postMessage('stop');
      return report;
    },
  };
}

/** Whether a process has exited (a crash, for a server the probe did not stop). */
export const exited = (p: FlotillaProcess): boolean => p.proc.exitCode !== null || p.proc.signalCode !== null;

/**
 * Stops a process if it still runs; never throws. One that died of a signal (a heap abort, the
 * watchdog) has a null exit code, and waiting for its `exit` again would wait forever.
 */
export async function stopQuietly(
  p: { readonly proc?: FlotillaProcess['proc']; stop(): Promise<unknown> } | undefined,
): Promise<void> {
  if (!p || (p.proc && (p.proc.exitCode !== null || p.proc.signalCode !== null))) return;
  try {
    await p.stop();
  } catch {
    // Already gone.
  }
}

/** Sleeps `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `MB` with no decimals, for details. */
export const mb = (n: number): string => `${Math.round(n)} MB`;
