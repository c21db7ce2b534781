import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

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
  private readonly requestSuccess: Counter<'model' | 'version'>;
  private readonly requestFailure: Counter<'model' | 'version' | 'reason'>;
  private readonly inferenceCount: Counter<'model' | 'version'>;
  private readonly execCount: Counter<'model' | 'version'>;
  private readonly requestDuration: Histogram<'model' | 'version'>;
  private readonly queueDuration: Histogram<'model' | 'version'>;
  private readonly computeDuration: Histogram<'model' | 'version'>;
  private readonly pendingRequests: Gauge<'model' | 'version'>;
  private readonly ready: Gauge<'model' | 'version'>;
  private readonly loadDuration: Gauge<'model' | 'version'>;

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const labelNames = ['model', 'version'] as const;
    this.requestSuccess = new Counter({
      name: 'flotilla_inference_request_success_total',
      help: 'Inference requests that succeeded.',
      labelNames,
      registers,
    });
    this.requestFailure = new Counter({
      name: 'flotilla_inference_request_failure_total',
      help: 'Inference requests that failed, by error code.',
      labelNames: ['model', 'version', 'reason'],
      registers,
    });
    this.inferenceCount = new Counter({
      name: 'flotilla_inference_count_total',
      help: 'Inferences performed (a request with a batch of n counts n).',
      labelNames,
      registers,
    });
    this.execCount = new Counter({
      name: 'flotilla_inference_exec_count_total',
      help: 'Model executions; inference_count / exec_count is the average batch size.',
      labelNames,
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'flotilla_inference_request_duration_seconds',
      help: 'Time from a decoded request to its outputs, inside the server.',
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'flotilla_inference_queue_duration_seconds',
      help: 'Time a request waited for a free model instance.',
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.computeDuration = new Histogram({
      name: 'flotilla_inference_compute_duration_seconds',
      help: 'Time a model instance spent computing a request.',
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.pendingRequests = new Gauge({
      name: 'flotilla_inference_pending_request_count',
      help: 'Requests received and not yet answered.',
      labelNames,
      registers,
    });
    this.ready = new Gauge({
      name: 'flotilla_model_ready',
      help: '1 while a model version is ready to serve.',
      labelNames,
      registers,
    });
    this.loadDuration = new Gauge({
      name: 'flotilla_model_load_duration_seconds',
      help: 'How long the last load of a model version took.',
      labelNames,
      registers,
    });
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'flotilla_' });
  }

  /** Binds the label values of one version. */
  forVersion(model: string, version: string): VersionMetrics {
    const labels = { model, version };
    const success = this.requestSuccess.labels(labels);
    const inferences = this.inferenceCount.labels(labels);
    const execs = this.execCount.labels(labels);
    const request = this.requestDuration.labels(labels);
    const queue = this.queueDuration.labels(labels);
    const compute = this.computeDuration.labels(labels);
    const pending = this.pendingRequests.labels(labels);
    pending.set(0);
    return {
      success: (r) => {
        success.inc();
        inferences.inc(r.inferences);
        if (r.executions > 0) execs.inc(r.executions);
        request.observe(r.requestS);
        queue.observe(r.queueS);
        compute.observe(r.computeS);
      },
      failure: (reason, requestS) => {
        this.requestFailure.labels({ model, version, reason }).inc();
        request.observe(requestS);
      },
      pending: (delta) => pending.inc(delta),
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
