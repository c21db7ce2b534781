/** One configuration `flotilla tune` tries: the fields it overrides in a model's config. */
export interface TuneCandidate {
  /** `worker`: instances in worker threads; `inline`: one instance on the server's thread. */
  readonly kind: 'worker' | 'inline';
  readonly instances: number;
  readonly threads: number;
  /** `false`: no dynamic batching; a number: batching on with this max_queue_delay_us. */
  readonly batching: false | number;
}

/** What a candidate measured at one concurrency. */
export interface TuneMeasurement {
  readonly candidate: TuneCandidate;
  readonly concurrency: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** Batching settings tried when the model takes batches: off, greedy, and a short wait for fuller batches. */
export const BATCH_DELAYS_US: readonly number[] = [0, 500];

/**
 * The configurations to try on a machine with `cores` cores (Model Analyzer's brute-force search
 * in miniature): for onnx models one instance inline on the server's thread, then every
 * instances × threads in worker threads that does not oversubscribe the cores, each with and
 * without dynamic batching when the model has a batch dimension. Fewest resources first.
 */
export function tuneCandidates(cores: number, maxBatchSize: number, backend: 'onnx' | 'js'): TuneCandidate[] {
  const out: TuneCandidate[] = [];
  const batching: (false | number)[] = maxBatchSize > 0 ? [false, ...BATCH_DELAYS_US] : [false];
  if (backend === 'onnx')
    for (const b of batching) out.push({ kind: 'inline', instances: 1, threads: 1, batching: b });
  for (let instances = 1; instances <= cores; instances++) {
    for (let threads = 1; instances * threads <= cores; threads *= 2) {
      for (const b of batching) out.push({ kind: 'worker', instances, threads, batching: b });
    }
  }
  return out.sort((a, b) => a.instances * a.threads - b.instances * b.threads);
}

/**
 * The best measurement: the highest throughput among those without errors whose p99 stays within
 * the latency threshold (any p99 when there is none); ties go to fewer cores. Undefined when
 * nothing qualifies.
 */
export function bestMeasurement(
  results: readonly TuneMeasurement[],
  latencyThresholdMs?: number,
): TuneMeasurement | undefined {
  let best: TuneMeasurement | undefined;
  for (const r of results) {
    if (r.errors > 0 || (latencyThresholdMs !== undefined && r.p99Ms > latencyThresholdMs)) continue;
    const cost = r.candidate.instances * r.candidate.threads;
    const bestCost = best ? best.candidate.instances * best.candidate.threads : Number.POSITIVE_INFINITY;
    if (
      !best ||
      r.throughput > best.throughput * 1.02 ||
      (r.throughput >= best.throughput * 0.98 && cost < bestCost)
    )
      best = r;
  }
  return best;
}

/** The candidate as config.yaml fields. */
export function candidateConfig(c: TuneCandidate): Record<string, unknown> {
  return {
    instance_kind: c.kind,
    instances: c.instances,
    threads: c.threads,
    dynamic_batching: c.batching === false ? false : { max_queue_delay_us: c.batching },
  };
}

/** A short label for tables and logs. */
export function describeCandidate(c: TuneCandidate): string {
  const b = c.batching === false ? 'no batching' : `batching, delay ${c.batching} µs`;
  if (c.kind === 'inline') return `inline (server thread), ${b}`;
  return `${c.instances} instance${c.instances > 1 ? 's' : ''} × ${c.threads} thread${c.threads > 1 ? 's' : ''}, ${b}`;
}
