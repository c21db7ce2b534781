import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';

/** Options of {@link runClosedLoop}. */
export interface ClosedLoopOptions {
  /** Simultaneous users, each sending its next request as soon as the last one is answered. */
  readonly concurrency: number;
  /** How long to measure, after the warm-up. */
  readonly durationMs: number;
  /** Requests before measuring starts (JIT, connection set-up, model warm-up). */
  readonly warmupMs?: number;
  /** Hard cap on measured requests, so a run is bounded in count as well as in time. */
  readonly maxRequests?: number;
}

/** What {@link runClosedLoop} measured (after the warm-up). */
export interface ClosedLoopResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly elapsedS: number;
  /** Successful requests per second. */
  readonly throughput: number;
  readonly latency: LatencySummary;
}

/**
 * perf_analyzer's closed loop: `concurrency` users each send a request, wait for the answer,
 * and send again. Measures successful requests per second and their latency.
 */
export async function runClosedLoop(
  options: ClosedLoopOptions,
  task: () => Promise<unknown>,
): Promise<ClosedLoopResult> {
  const histogram = new LatencyHistogram();
  let measuring = false;
  let stop = false;
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;
  const max = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const user = async (): Promise<void> => {
    while (!stop) {
      const start = performance.now();
      try {
        await task();
        if (measuring) {
          histogram.recordMs(performance.now() - start);
          if (++requests >= max) stop = true;
        }
      } catch (err) {
        if (measuring) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }
  };
  const users = Array.from({ length: options.concurrency }, user);
  await new Promise((r) => setTimeout(r, options.warmupMs ?? 500));
  measuring = true;
  const began = performance.now();
  // Ends at the deadline or, with maxRequests, as soon as the cap is reached.
  const deadline = began + options.durationMs;
  while (!stop && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(10, Math.max(0, deadline - performance.now()))));
  }
  const elapsedS = (performance.now() - began) / 1000;
  measuring = false;
  stop = true;
  await Promise.all(users);
  return {
    concurrency: options.concurrency,
    requests,
    errors,
    firstError,
    elapsedS,
    throughput: requests / elapsedS,
    latency: histogram.summary(),
  };
}
