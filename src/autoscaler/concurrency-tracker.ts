/**
 * Tracks a variant's in-flight requests as an exact integral of concurrency over time, so any
 * window's average concurrency is (integral at end - integral at start) / window length:
 * time-weighted, like Knative's concurrency metric, with no sampling error. `now` is injected.
 */
export class ConcurrencyTracker {
  private inflight = 0;
  private area = 0;
  private lastChange: number;
  private lastActive: number | undefined;

  constructor(now: number) {
    this.lastChange = now;
  }

  /** A request started. */
  begin(now: number): void {
    this.advance(now);
    this.inflight++;
    this.lastActive = now;
  }

  /** A request finished. */
  end(now: number): void {
    this.advance(now);
    this.inflight = Math.max(0, this.inflight - 1);
    this.lastActive = now;
  }

  /** Requests in flight right now. */
  get current(): number {
    return this.inflight;
  }

  /** ∫ concurrency dt up to `now`, in request·milliseconds. */
  integral(now: number): number {
    this.advance(now);
    return this.area;
  }

  /** When a request last started or finished, or was in flight (`now` while any is). */
  lastActiveAt(now: number): number | undefined {
    return this.inflight > 0 ? now : this.lastActive;
  }

  private advance(now: number): void {
    if (now > this.lastChange) {
      this.area += this.inflight * (now - this.lastChange);
      this.lastChange = now;
    }
  }
}
