import type { Clock } from '../../core/index.js';
import type { Recorder } from '../measure/recorder.js';
import type { Target } from '../target/target.js';

/**
 * Sends requests for the drivers: picks the payload (round robin, so a dataset is covered once per
 * `payloads` requests) and the active endpoint, and records each outcome with its latency from the
 * intended send time.
 */
export class Sender {
  /** The endpoint new requests go to; the SLO switch moves it. */
  active = 0;
  /** Requests meant to leave before this moment (a warm-up's) are not recorded when they end. */
  measureFrom = Number.NEGATIVE_INFINITY;
  private nextPayload = 0;
  private inFlightCount = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly targets: readonly Target[],
    private readonly payloads: number,
    private readonly deps: { readonly recorder: Recorder; readonly clock: Clock },
  ) {}

  /** Requests sent and not yet finished. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Sends one request meant to leave at `intendedMs`; `after` runs once it has finished. */
  send(intendedMs: number, after?: () => void): void {
    const { recorder, clock } = this.deps;
    const endpoint = this.active;
    const payload = this.nextPayload;
    this.nextPayload = payload + 1 === this.payloads ? 0 : payload + 1;
    recorder.sent(clock.now() - intendedMs);
    this.inFlightCount++;
    this.targets[endpoint]!.send(payload, (outcome) => {
      if (intendedMs >= this.measureFrom) recorder.record(endpoint, clock.now() - intendedMs, outcome);
      this.inFlightCount--;
      if (after) after();
      if (this.inFlightCount === 0 && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Counts a request the generator refused to send (too many in flight) as sent and failed. */
  refuse(intendedMs: number, error: string): void {
    const { recorder, clock } = this.deps;
    recorder.sent(clock.now() - intendedMs);
    recorder.record(this.active, clock.now() - intendedMs, { ok: false, error });
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.inFlightCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
