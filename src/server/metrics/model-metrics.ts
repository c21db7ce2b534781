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
  /** What the counters have been given so far. */
  readonly flushed: { success: number; inferences: number; execs: number };
}

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

  constructor(options: { readonly processMetrics?: boolean } = {}) {
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
        request.observe(r.requestS);
        queue.observe(r.queueS);
        compute.observe(r.computeS);
      },
      failure: (reason, requestS) => {
        this.requestFailure.labels({ model, version, reason }).inc();
        request.observe(requestS);
      },
      pending: (delta) => {
        tally.pending += delta;
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
