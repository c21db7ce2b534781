import type { Dispatcher } from 'undici';
import type { Clock } from '../../core/index.js';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';
import { classify } from './outcomes.js';

/**
 * A copy of a request sent to the mirror variant: its answer is read and dropped, its outcome
 * counts for that variant's replicas (load, outlier detection), and nothing reaches the client.
 */
class MirrorHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private readonly start: number;

  constructor(
    private readonly variant: VariantRuntime,
    private readonly replica: ReplicaRuntime,
    private readonly clock: Clock,
  ) {
    this.start = clock.now();
  }

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.end(
      { kind: 'response', status: this.status, latencyMs: this.clock.now() - this.start },
      this.status >= 500,
    );
  }

  onError(err: Error): void {
    this.end(classify(err, this.clock.now() - this.start), true);
  }

  private end(outcome: Parameters<VariantRuntime['observe']>[1], failed: boolean): void {
    this.variant.picker.report(this.replica, outcome);
    this.variant.observe(this.replica, outcome);
    this.variant.requestEnded(failed);
    this.replica.requests++;
    if (failed) this.replica.errors++;
  }
}

/** Sends a buffered request to a replica of the mirror variant and forgets it. */
export function mirrorRequest(
  variant: VariantRuntime,
  request: { method: string; path: string; headers: string[]; body: Buffer | null; timeoutMs: number },
  clock: Clock,
): void {
  const replica = variant.picker.pick();
  if (!replica) return;
  variant.requestStarted();
  replica.pool.dispatch(
    {
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.timeoutMs,
    },
    new MirrorHandler(variant, replica, clock),
  );
}
