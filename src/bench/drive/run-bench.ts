import type { Clock, Random } from '../../core/index.js';
import { LatencyHistogram, type LatencySummary } from '../latency-histogram.js';
import { type Cut, mergeCuts, Recorder, type WindowStats } from '../measure/recorder.js';
import { decideSwitch } from '../measure/slo.js';
import { isStable } from '../measure/stability.js';
import type { Target } from '../target/target.js';
import { ClosedLoopDriver, type Driver, OpenLoopDriver } from './drivers.js';
import { type BenchEvent, type BenchPlan, type LevelResult, stabilityApplies } from './plan.js';
import { Sender } from './sender.js';

/** A window of the run: its numbers, its level and the endpoint that served it (before any switch it caused). */
export interface WindowRecord extends WindowStats {
  readonly level: number;
  readonly index: number;
  readonly endpoint: number;
}

/** Everything a run measured; reporters turn it into tables, JSON, CSV and HTML. */
export interface BenchResult {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly levels: readonly LevelResult[];
  readonly windows: readonly WindowRecord[];
  readonly events: readonly BenchEvent[];
  /** The whole run: every request sent, and the latency of every successful one. */
  readonly requests: number;
  readonly errors: number;
  readonly sent: number;
  readonly throughput: number;
  readonly latency: LatencySummary;
  readonly percentiles: readonly { readonly percentile: number; readonly ms: number }[];
  readonly violations: number;
  readonly labeled: number;
  readonly correct: number;
  readonly endpoints: readonly {
    readonly name: string;
    readonly requests: number;
    readonly violations: number;
  }[];
  readonly variants: Recorder['variants'];
  readonly errorKinds: ReadonlyMap<string, number>;
}

/** Injected parts of a run. */
export interface RunDeps {
  /** One per endpoint, in switching order. */
  readonly targets: readonly Target[];
  /** Payloads each target holds (sent round robin). */
  readonly payloads: number;
  readonly clock: Clock;
  readonly random: Random;
  /** Called after each window (progress line). */
  readonly onWindow?: (window: WindowRecord, levelValue: number) => void;
  readonly onEvent?: (event: BenchEvent) => void;
  /** Stops the run early (Ctrl-C); what was measured is still reported. */
  readonly signal?: AbortSignal;
}

const PERCENTILES = [0, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

/** Sleeps until `deadline` or until `early` settles; true when `early` won. */
function waitUntil(clock: Clock, deadline: number, early: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    // Node's timers run on a cached loop time and may fire a little before the monotonic deadline.
    const arm = (): void => {
      const left = deadline - clock.now();
      if (left <= 0) resolve(false);
      else timer = setTimeout(arm, Math.ceil(left));
    };
    arm();
    early.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Runs a plan: for each load level, starts its driver, cuts a window every `intervalMs`, applies
 * the SLO switch after each window, and ends the level when it is stable, out of windows, out of
 * time or out of requests. Every request sent is recorded in some window, so the run's totals
 * equal what the server saw.
 */
export async function runBench(plan: BenchPlan, deps: RunDeps): Promise<BenchResult> {
  const { clock } = deps;
  const recorder = new Recorder({
    endpoints: deps.targets.length,
    ...(plan.latencyThresholdMs !== undefined ? { latencyThresholdMs: plan.latencyThresholdMs } : {}),
  });
  const sender = new Sender(deps.targets, deps.payloads, { recorder, clock });
  const startedAt = new Date();
  const runStart = clock.now();
  const windows: WindowRecord[] = [];
  const events: BenchEvent[] = [];
  const levels: LevelResult[] = [];
  const all = new LatencyHistogram();
  const stop = aborted(deps.signal);
  const event = (e: BenchEvent): void => {
    events.push(e);
    deps.onEvent?.(e);
  };

  const mode = plan.mode;
  const values =
    mode.kind === 'closed' || mode.kind === 'open' ? mode.levels : mode.kind === 'users' ? [mode.users] : [1];
  for (const [level, value] of values.entries()) {
    if (deps.signal?.aborted) break;
    const driver = makeDriver(plan, value, sender, deps);
    const fixedMs = mode.kind === 'users' ? mode.durationMs : plan.levelDurationMs;
    const useRule = stabilityApplies(plan);
    const cuts: Cut[] = [];
    let stable = false;
    let ranOut = false;
    driver.start();
    const early = Promise.race([driver.done.then(() => 'done' as const), stop.then(() => 'stop' as const)]);
    let warmedUp = true;
    if (plan.warmupMs !== undefined) {
      warmedUp = !(await waitUntil(clock, clock.now() + plan.warmupMs, early));
      // What the warm-up recorded is dropped, and so are its requests still in flight.
      sender.measureFrom = clock.now();
      recorder.cut(clock.now() - plan.warmupMs, clock.now());
    }
    const levelStart = clock.now();
    let start = levelStart;
    for (;;) {
      if (!warmedUp) {
        ranOut = true;
        break;
      }
      const end =
        fixedMs === undefined
          ? start + plan.intervalMs
          : Math.min(start + plan.intervalMs, levelStart + fixedMs);
      if (await waitUntil(clock, end, early)) {
        ranOut = true;
        break;
      }
      const now = clock.now();
      const cut = recorder.cut(start, now);
      start = now;
      cuts.push(cut);
      const record = { ...cut.stats, level, index: cuts.length - 1, endpoint: sender.active };
      windows.push(record);
      deps.onWindow?.(record, value);
      if (plan.maxViolationRate !== undefined) {
        const active = sender.active;
        const d = decideSwitch(cut.stats.endpoints[active]!, active, {
          maxViolationRate: plan.maxViolationRate,
          endpoints: deps.targets.length,
        });
        if (d.switch) {
          sender.active = d.to;
          event({
            kind: 'endpoint-switch',
            atMs: now - runStart,
            level,
            window: cuts.length - 1,
            from: deps.targets[active]!.name,
            to: deps.targets[d.to]!.name,
            violationRate: d.violationRate,
          });
        }
      }
      if (fixedMs !== undefined && now >= levelStart + fixedMs) break;
      if (
        useRule &&
        isStable(
          cuts.map((c) => ({ throughput: c.stats.throughput, p99Ms: c.stats.latency.p99Ms })),
          plan.stability,
        )
      ) {
        stable = true;
        break;
      }
      if (useRule && cuts.length >= plan.maxWindows) {
        event({ kind: 'level-unstable', atMs: now - runStart, level, window: cuts.length - 1 });
        break;
      }
    }
    await driver.stop();
    const tail = recorder.cut(start, clock.now());
    if (ranOut || cuts.length === 0) {
      // The level ended between window cuts (budget spent, or interrupted): the rest is a window of its own.
      cuts.push(tail);
      const record = { ...tail.stats, level, index: cuts.length - 1, endpoint: sender.active };
      windows.push(record);
      deps.onWindow?.(record, value);
    } else {
      // Answers that came in while draining join the last window, so nothing sent goes unrecorded.
      const merged = mergeCuts(cuts[cuts.length - 1]!, tail);
      cuts[cuts.length - 1] = merged;
      const last = windows[windows.length - 1]!;
      windows[windows.length - 1] = { ...merged.stats, level, index: last.index, endpoint: last.endpoint };
    }
    for (const c of cuts) all.add(c.histogram);
    levels.push(
      summarizeLevel(value, useRule ? cuts.slice(-plan.stability.windows) : cuts, cuts.length, stable),
    );
  }

  const durationMs = clock.now() - runStart;
  const sum = (f: (w: WindowRecord) => number): number => windows.reduce((a, w) => a + f(w), 0);
  const requests = sum((w) => w.requests);
  const errors = sum((w) => w.errors);
  return {
    startedAt,
    durationMs,
    levels,
    windows,
    events,
    requests,
    errors,
    sent: sum((w) => w.sent),
    // Over the measured windows: warm-ups and the gaps between levels are not in it.
    throughput:
      ((requests - errors) * 1000) /
      Math.max(
        sum((w) => w.durationMs),
        1e-3,
      ),
    latency: all.summary(),
    percentiles: PERCENTILES.map((p) => ({
      percentile: p,
      ms: p === 100 ? all.summary().maxMs : all.percentileMs(p),
    })),
    violations: sum((w) => w.violations),
    labeled: sum((w) => w.labeled),
    correct: sum((w) => w.correct),
    endpoints: deps.targets.map((t, i) => ({
      name: t.name,
      requests: sum((w) => w.endpoints[i]?.requests ?? 0),
      violations: sum((w) => w.endpoints[i]?.violations ?? 0),
    })),
    variants: recorder.variants,
    errorKinds: recorder.errorKinds,
  };
}

function makeDriver(plan: BenchPlan, value: number, sender: Sender, deps: RunDeps): Driver {
  const mode = plan.mode;
  const clock = deps.clock;
  switch (mode.kind) {
    case 'closed':
      return new ClosedLoopDriver(
        { users: value, ...(mode.requests !== undefined ? { requests: mode.requests } : {}) },
        { sender, clock },
      );
    case 'sequential':
      return new ClosedLoopDriver({ users: 1, requests: mode.requests }, { sender, clock });
    case 'users':
      return new ClosedLoopDriver({ users: mode.users, spawnRate: mode.spawnRate }, { sender, clock });
    case 'open':
      return new OpenLoopDriver(
        { rate: value, distribution: mode.distribution, maxInFlight: plan.maxInFlight },
        { sender, clock, random: deps.random },
      );
  }
}

function summarizeLevel(value: number, cuts: readonly Cut[], windows: number, stable: boolean): LevelResult {
  const h = new LatencyHistogram();
  for (const c of cuts) h.add(c.histogram);
  const s = (f: (w: WindowStats) => number): number => cuts.reduce((a, c) => a + f(c.stats), 0);
  const ms = Math.max(
    s((w) => w.durationMs),
    1e-3,
  );
  const requests = s((w) => w.requests);
  const errors = s((w) => w.errors);
  // The level's send lag: the worst window's, since lag is about whether the generator kept up.
  const lag = cuts.map((c) => c.stats.sendLag).reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a));
  return {
    value,
    stable,
    windows,
    requests,
    errors,
    throughput: ((requests - errors) * 1000) / ms,
    sendRate: (s((w) => w.sent) * 1000) / ms,
    latency: h.summary(),
    sendLag: lag,
    violations: s((w) => w.violations),
  };
}
