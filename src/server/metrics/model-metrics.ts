import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { TallyHistogram } from './tally-histogram.js';

/** Buckets (seconds) from 100 µs to 10 s: inference spans tiny MLPs to OCR detectors. */
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** One answered request, for the metrics. */
export interface RequestSample {
  readonly requestS: number;
  readonly queueS: number;
  readonly computeS: number;
  /** Inferences the request held (its batch dimension). */
  readonly inferences: number;
  /** Model executions to count for it: 1, or 0 for all but one request of a shared batch. */
  readonly executions: number;
}

interface VersionTally {
  readonly labels: { readonly model: string; readonly version: string };
  success: number;
  inferences: number;
  execs: number;
  pending: number;
  /** Cumulative durations in seconds, for Triton's statistics extension. */
  successS: number;
  failures: number;
  failS: number;
  queueS: number;
  computeS: number;
  /** Wall-clock milliseconds since the epoch of the last answered request; 0 before any. */
  lastMs: number;
  /** What the counters have been given so far. */
  readonly flushed: { success: number; inferences: number; execs: number };
}

/** A count and its cumulative duration (Triton's `StatisticDuration`, in nanoseconds). */
export interface StatDuration {
  readonly count: number;
  readonly ns: number;
}

/**
 * One version's statistics in Triton's shape (statistics extension). Flotilla measures a
 * request's time inside the server, its wait for an instance and its compute time; it does not
 * measure input preparation and output extraction apart from compute, so `compute_input` and
 * `compute_output` are zero, and there is no response cache (`cache_hit`, `cache_miss` zero).
 */
export interface VersionStatistics {
  readonly name: string;
  readonly version: string;
  readonly last_inference: number;
  readonly inference_count: number;
  readonly execution_count: number;
  readonly inference_stats: {
    readonly success: StatDuration;
    readonly fail: StatDuration;
    readonly queue: StatDuration;
    readonly compute_input: StatDuration;
    readonly compute_infer: StatDuration;
    readonly compute_output: StatDuration;
    readonly cache_hit: StatDuration;
    readonly cache_miss: StatDuration;
  };
}

const ZERO: StatDuration = Object.freeze({ count: 0, ns: 0 });
const duration = (count: number, seconds: number): StatDuration => ({
  count,
  ns: Math.round(seconds * 1e9),
});

/** The metrics of one model version, with its label values bound once (the hot path only increments). */
export interface VersionMetrics {
  success(s: RequestSample): void;
  failure(reason: string, requestS: number): void;
  pending(delta: number): void;
}

/**
 * Prometheus metrics after Triton's `nv_inference_*` family, under a `flotilla_` prefix:
 * average batch size is `inference_count / exec_count`. One registry per server.
 */
export class ModelMetrics {
  readonly registry = new Registry();
  private readonly requestFailure: Counter<'model' | 'version' | 'reason'>;
  private readonly requestDuration: TallyHistogram;
  private readonly queueDuration: TallyHistogram;
  private readonly computeDuration: TallyHistogram;
  /** Per-version counts the hot path adds to; the counters and gauge read them when scraped. */
  private readonly tallies: VersionTally[] = [];
  private readonly ready: Gauge<'model' | 'version'>;
  private readonly loadDuration: Gauge<'model' | 'version'>;

  /** Wall-clock milliseconds since the epoch, for `last_inference`. */
  private readonly wallClock: () => number;

  constructor(options: { readonly processMetrics?: boolean; readonly wallClock?: () => number } = {}) {
    this.wallClock = options.wallClock ?? Date.now;
    const registers = [this.registry];
    const labelNames = ['model', 'version'] as const;
    const tallies = this.tallies;
    // Counters and the pending gauge read the tallies when scraped; the registry holds them.
    /** Moves what the hot path counted since the last scrape into a prom-client counter. */
    const flush = (
      counter: Counter<'model' | 'version'>,
      field: 'success' | 'inferences' | 'execs',
    ): void => {
      for (const t of tallies) {
        const delta = t[field] - t.flushed[field];
        if (delta > 0) counter.labels(t.labels).inc(delta);
        t.flushed[field] = t[field];
      }
    };
    new Counter({
      name: 'flotilla_inference_request_success_total',
      help: 'Inference requests that succeeded.',
      labelNames,
      registers,
      collect() {
        flush(this, 'success');
      },
    });
    this.requestFailure = new Counter({
      name: 'flotilla_inference_request_failure_total',
      help: 'Inference requests that failed, by error code.',
      labelNames: ['model', 'version', 'reason'],
      registers,
    });
    new Counter({
      name: 'flotilla_inference_count_total',
      help: 'Inferences performed (a request with a batch of n counts n).',
      labelNames,
      registers,
      collect() {
        flush(this, 'inferences');
      },
    });
    new Counter({
      name: 'flotilla_inference_exec_count_total',
      help: 'Model executions; inference_count / exec_count is the average batch size.',
      labelNames,
      registers,
      collect() {
        flush(this, 'execs');
      },
    });
    this.requestDuration = new TallyHistogram(
      'flotilla_inference_request_duration_seconds',
      'Time from a decoded request to its outputs, inside the server.',
      DURATION_BUCKETS,
      this.registry,
    );
    this.queueDuration = new TallyHistogram(
      'flotilla_inference_queue_duration_seconds',
      'Time a request waited for a free model instance.',
      DURATION_BUCKETS,
      this.registry,
    );
    this.computeDuration = new TallyHistogram(
      'flotilla_inference_compute_duration_seconds',
      'Time a model instance spent computing a request.',
      DURATION_BUCKETS,
      this.registry,
    );
    new Gauge({
      name: 'flotilla_inference_pending_request_count',
      help: 'Requests received and not yet answered.',
      labelNames,
      registers,
      collect() {
        for (const t of tallies) this.labels(t.labels).set(t.pending);
      },
    });
    this.ready = new Gauge({
      name: 'flotilla_model_ready',
      help: '1 while a model version is ready to serve.',
      labelNames,
      registers,
      // With --processes, ready only when every process is.
      aggregator: 'min',
    });
    this.loadDuration = new Gauge({
      name: 'flotilla_model_load_duration_seconds',
      help: 'How long the last load of a model version took.',
      labelNames,
      registers,
      aggregator: 'max',
    });
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'flotilla_' });
  }

  /** Binds the label values of one version (the hot path only adds to plain numbers). */
  forVersion(model: string, version: string): VersionMetrics {
    const labels = { model, version };
    let t = this.tallies.find((x) => x.labels.model === model && x.labels.version === version);
    if (!t) {
      t = {
        labels,
        success: 0,
        inferences: 0,
        execs: 0,
        pending: 0,
        successS: 0,
        failures: 0,
        failS: 0,
        queueS: 0,
        computeS: 0,
        lastMs: 0,
        flushed: { success: 0, inferences: 0, execs: 0 },
      };
      this.tallies.push(t);
    }
    const tally = t;
    const request = this.requestDuration.labels(labels);
    const queue = this.queueDuration.labels(labels);
    const compute = this.computeDuration.labels(labels);
    return {
      success: (r) => {
        tally.success++;
        tally.inferences += r.inferences;
        tally.execs += r.executions;
        tally.successS += r.requestS;
        tally.queueS += r.queueS;
        tally.computeS += r.computeS;
        tally.lastMs = this.wallClock();
        request.observe(r.requestS);
        queue.observe(r.queueS);
        compute.observe(r.computeS);
      },
      failure: (reason, requestS) => {
        this.requestFailure.labels({ model, version, reason }).inc();
        tally.failures++;
        tally.failS += requestS;
        tally.lastMs = this.wallClock();
        request.observe(requestS);
      },
      pending: (delta) => {
        tally.pending += delta;
      },
    };
  }

  /**
   * Triton's statistics of one version, from what this process counted since it started (zeros
   * for a version that has not answered yet).
   */
  statistics(model: string, version: string): VersionStatistics {
    const t = this.tallies.find((x) => x.labels.model === model && x.labels.version === version);
    if (!t) {
      return {
        name: model,
        version,
        last_inference: 0,
        inference_count: 0,
        execution_count: 0,
        inference_stats: {
          success: ZERO,
          fail: ZERO,
          queue: ZERO,
          compute_input: ZERO,
          compute_infer: ZERO,
          compute_output: ZERO,
          cache_hit: ZERO,
          cache_miss: ZERO,
        },
      };
    }
    return {
      name: model,
      version,
      last_inference: Math.round(t.lastMs),
      inference_count: t.inferences,
      execution_count: t.execs,
      inference_stats: {
        success: duration(t.success, t.successS),
        fail: duration(t.failures, t.failS),
        // Every successful request waited (perhaps 0 s) once and was computed once.
        queue: duration(t.success, t.queueS),
        compute_input: ZERO,
        compute_infer: duration(t.success, t.computeS),
        compute_output: ZERO,
        cache_hit: ZERO,
        cache_miss: ZERO,
      },
    };
  }

  versionReady(model: string, version: string, ready: boolean, loadS?: number): void {
    this.ready.labels({ model, version }).set(ready ? 1 : 0);
    if (loadS !== undefined) this.loadDuration.labels({ model, version }).set(loadS);
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
