/**
 * The latest request latencies of a variant with the time each ended, in a fixed ring, so a
 * rollout can read "p99 since the step began" without a histogram per step. Older entries are
 * overwritten: with the default size a step sees at most the last 8192 requests, plenty for a p99.
 */
export class LatencyLog {
  private readonly endedAt: Float64Array;
  private readonly latencyMs: Float64Array;
  private next = 0;
  private count = 0;

  constructor(size = 8192) {
    this.endedAt = new Float64Array(size);
    this.latencyMs = new Float64Array(size);
  }

  record(endedAt: number, latencyMs: number): void {
    this.endedAt[this.next] = endedAt;
    this.latencyMs[this.next] = latencyMs;
    this.next = (this.next + 1) % this.endedAt.length;
    if (this.count < this.endedAt.length) this.count++;
  }

  /** The `q` quantile (0..1) of latencies of requests that ended at or after `since`; undefined with none. */
  quantileSince(since: number, q: number): number | undefined {
    const picked: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.endedAt[i]! >= since) picked.push(this.latencyMs[i]!);
    if (picked.length === 0) return undefined;
    picked.sort((a, b) => a - b);
    return picked[Math.min(picked.length - 1, Math.ceil(q * picked.length) - 1)];
  }
}
