import type { BenchPlan, LoadMode } from './drive/plan.js';
import { BenchArgumentError } from './errors.js';
import { DEFAULT_STABILITY } from './measure/stability.js';
import type { Distribution } from './plan/schedule.js';
import { parseSweep } from './plan/sweep.js';
import type { Protocol } from './target/protocols.js';

/** The flags of `flotilla bench`, as commander parsed them (numbers already numbers). */
export interface BenchFlags {
  readonly url: string;
  readonly grpcUrl: string;
  readonly model: string;
  readonly modelVersion?: string;
  readonly protocol: Protocol;
  readonly endpoints?: readonly string[];
  readonly inputData?: string;
  readonly dataset?: string;
  readonly labelOutput?: string;
  readonly shape?: readonly string[];
  readonly header?: readonly string[];
  readonly concurrency?: string;
  readonly requestRate?: string;
  readonly distribution?: Distribution;
  readonly users?: number;
  readonly spawnRate?: number;
  /** Seconds. */
  readonly duration?: number;
  /** Seconds of load at the start of each level that are not measured. */
  readonly warmup?: number;
  readonly requests?: number;
  readonly measurementInterval: number;
  readonly maxWindows: number;
  readonly stabilityPercentage: number;
  readonly latencyThreshold?: number;
  readonly maxViolationRate?: number;
  readonly connections?: number;
  readonly pipelining: number;
  readonly timeout: number;
  readonly maxInFlight: number;
  readonly seed: number;
  readonly json?: string;
  readonly csv?: string;
  readonly html?: string;
  readonly progress?: boolean;
  /** PEM CA bundle trusted for `https://` and `grpcs://` endpoints (default: Node's built-in roots). */
  readonly tlsCa?: string;
  /** Skip verifying TLS certificates (self-signed test servers). */
  readonly insecure?: boolean;
}

const bad = (message: string): BenchArgumentError => new BenchArgumentError(message);

function loadMode(f: BenchFlags): LoadMode {
  const chosen = (['concurrency', 'requestRate', 'users'] as const).filter((k) => f[k] !== undefined);
  const flag = { concurrency: '--concurrency', requestRate: '--request-rate', users: '--users' } as const;
  if (chosen.length > 1) throw bad(`${chosen.map((k) => flag[k]).join(' and ')}: choose one load mode`);
  if (f.spawnRate !== undefined && f.users === undefined) throw bad('--spawn-rate needs --users');
  if (f.distribution !== undefined && f.requestRate === undefined)
    throw bad('--distribution needs --request-rate');
  if (f.users !== undefined) {
    if (f.duration === undefined) throw bad('--users needs --duration (seconds to run, ramp included)');
    if (f.requests !== undefined)
      throw bad('--requests does not combine with --users (which runs for --duration)');
    return { kind: 'users', users: f.users, spawnRate: f.spawnRate ?? 1, durationMs: f.duration * 1000 };
  }
  if (f.requestRate !== undefined) {
    if (f.requests !== undefined)
      throw bad('--requests does not combine with --request-rate (use --duration)');
    const levels = parseSweep(f.requestRate, {
      flag: '--request-rate',
      integer: false,
      min: 0,
      minInclusive: false,
    });
    return { kind: 'open', levels, distribution: f.distribution ?? 'constant' };
  }
  if (f.requests !== undefined && f.duration !== undefined)
    throw bad('--requests and --duration: choose one way to end the run');
  if (f.concurrency !== undefined) {
    const levels = parseSweep(f.concurrency, {
      flag: '--concurrency',
      integer: true,
      min: 1,
      minInclusive: true,
    });
    return { kind: 'closed', levels, ...(f.requests !== undefined ? { requests: f.requests } : {}) };
  }
  if (f.requests !== undefined) return { kind: 'sequential', requests: f.requests };
  return { kind: 'closed', levels: [1] };
}

/** Checks the flags together and turns them into a plan; throws BenchArgumentError naming the flag. */
export function planFromFlags(f: BenchFlags): BenchPlan {
  const mode = loadMode(f);
  if (f.maxViolationRate !== undefined && f.latencyThreshold === undefined)
    throw bad('--max-violation-rate needs --latency-threshold (what counts as a violation)');
  if (f.endpoints !== undefined && f.endpoints.length > 1 && f.maxViolationRate === undefined)
    throw bad('--endpoints with more than one endpoint needs --max-violation-rate (when to switch)');
  if (f.inputData !== undefined && f.dataset !== undefined)
    throw bad('--input-data and --dataset: choose one payload');
  if (f.labelOutput !== undefined && f.dataset === undefined) throw bad('--label-output needs --dataset');
  if ((f.shape?.length ?? 0) > 0 && (f.inputData !== undefined || f.dataset !== undefined))
    throw bad('--shape shapes random payloads; --input-data and --dataset carry their own shapes');
  if (f.warmup !== undefined && f.warmup > 0 && (mode.kind === 'users' || mode.kind === 'sequential'))
    throw bad('--warmup applies to --concurrency and --request-rate levels');
  if (f.protocol === 'paddle' && f.modelVersion !== undefined)
    throw bad("--model-version: Paddle Serving's /{model}/prediction has no version");
  return {
    mode,
    intervalMs: f.measurementInterval,
    maxWindows: f.maxWindows,
    stability: { windows: DEFAULT_STABILITY.windows, tolerance: f.stabilityPercentage / 100 },
    ...(f.duration !== undefined && mode.kind !== 'users' ? { levelDurationMs: f.duration * 1000 } : {}),
    ...(f.warmup !== undefined && f.warmup > 0 ? { warmupMs: f.warmup * 1000 } : {}),
    ...(f.latencyThreshold !== undefined ? { latencyThresholdMs: f.latencyThreshold } : {}),
    ...(f.maxViolationRate !== undefined ? { maxViolationRate: f.maxViolationRate } : {}),
    maxInFlight: f.maxInFlight,
  };
}

/** `--shape name:1,784` (repeatable) as a map of input name to dims. */
export function parseShapes(list: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const text of list) {
    const m = /^([^:]+):(\d+(?:,\d+)*)?$/.exec(text.trim());
    if (!m) throw bad(`--shape ${JSON.stringify(text)}: expected name:d1,d2,… e.g. image:1,784`);
    out.set(m[1]!, m[2] ? m[2].split(',').map(Number) : []);
  }
  return out;
}

/** `--header name:value` (repeatable) as lower-case names to values. */
export function parseHeaders(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of list) {
    const i = text.indexOf(':');
    const name = text.slice(0, i).trim().toLowerCase();
    if (i <= 0 || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || /[\r\n]/.test(text))
      throw bad(`--header ${JSON.stringify(text)}: expected name:value, e.g. host:mnist.example.com`);
    if (name === 'content-length' || name === 'transfer-encoding')
      throw bad(`--header ${name}: the bench sets it from the payload`);
    out[name] = text.slice(i + 1).trim();
  }
  return out;
}

/**
 * The endpoints to run against, in switching order: HTTP(S) base URLs, or gRPC `host:port`
 * (`grpcs://host:port` kept as is: gRPC over TLS).
 */
export function endpointsFromFlags(f: BenchFlags): string[] {
  const list =
    f.endpoints && f.endpoints.length > 0 ? f.endpoints : [f.protocol === 'grpc' ? f.grpcUrl : f.url];
  return list.map((e) => {
    if (f.protocol === 'grpc') {
      const secure = e.startsWith('grpcs://');
      const address = e.replace(/^grpcs?:\/\//, '');
      if (!/^[^/:\s]+:\d+$/.test(address) && !/^\[[0-9a-f:]+\]:\d+$/i.test(address))
        throw bad(`gRPC endpoint ${JSON.stringify(e)}: expected host:port, e.g. 127.0.0.1:8001`);
      return secure ? `grpcs://${address}` : address;
    }
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw bad(`endpoint ${JSON.stringify(e)}: not a URL (expected e.g. http://127.0.0.1:8000)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw bad(`endpoint ${JSON.stringify(e)}: only http:// and https:// URLs are supported`);
    if (url.search || url.hash)
      throw bad(`endpoint ${JSON.stringify(e)}: no query or fragment, only a base path`);
    return url.href.replace(/\/+$/, '');
  });
}
