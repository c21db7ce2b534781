import { UnavailableError } from '../../core/index.js';

/** Timers as a dependency, so the activator runs on a simulated clock in tests. */
export interface ActivatorTimers {
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export interface ActivatorOptions {
  /** Requests one ready replica is given at once (the autoscaler's target concurrency). */
  readonly targetConcurrency: number;
  /** Requests allowed to wait; beyond it they get 503 at once (Knative's activator has no bound). */
  readonly maxQueue: number;
  /** How long a request may wait for capacity before it gets 503. */
  readonly timeoutMs: number;
  /** Seconds a refused client is told to wait (`Retry-After`). */
  readonly retryAfterS: number;
}

/** A refusal from the activator; `retryAfterS` goes out as the `Retry-After` header. */
export class ActivationError extends UnavailableError {
  constructor(
    code: 'FLT_ACTIVATION_QUEUE_FULL' | 'FLT_ACTIVATION_TIMEOUT',
    message: string,
    readonly retryAfterS: number,
  ) {
    super(code, message);
  }
}

interface Waiter {
  readonly resolve: (release: () => void) => void;
  readonly reject: (err: Error) => void;
  cancel: () => void;
}

/**
 * Holds requests for a variant whose capacity is short (no ready replica yet, or a burst beyond
 * the ready replicas' target concurrency) and releases them as capacity appears: at most
 * `targetConcurrency` in flight per ready replica, so the first replica up is not flooded. The
 * queue is bounded and every wait has a timeout, so nothing hangs.
 */
export class Activator {
  private readyReplicas = 0;
  private inflight = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly options: ActivatorOptions,
    private readonly deps: { readonly timers: ActivatorTimers },
  ) {}

  /** Requests waiting for capacity (the autoscaler counts them as load). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Requests released and not yet finished. */
  get active(): number {
    return this.inflight;
  }

  private get capacity(): number {
    return this.readyReplicas * this.options.targetConcurrency;
  }

  /** The variant's ready replicas changed: release what the new capacity allows. */
  setReadyReplicas(n: number): void {
    this.readyReplicas = Math.max(0, n);
    this.drain();
  }

  /**
   * Waits for capacity for one request; resolves with the function to call when the request
   * finishes. Rejects with an ActivationError (503, Retry-After) when the queue is full or the
   * wait times out.
   */
  acquire(label: string): Promise<() => void> {
    if (this.waiting.length === 0 && this.inflight < this.capacity) return Promise.resolve(this.grant());
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(
        new ActivationError(
          'FLT_ACTIVATION_QUEUE_FULL',
          `${label}: ${this.waiting.length} requests are already waiting for a replica to start`,
          this.options.retryAfterS,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, cancel: () => {} };
      waiter.cancel = this.deps.timers.after(this.options.timeoutMs, () => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        reject(
          new ActivationError(
            'FLT_ACTIVATION_TIMEOUT',
            `${label}: no replica was ready within ${this.options.timeoutMs} ms`,
            this.options.retryAfterS,
          ),
        );
      });
      this.waiting.push(waiter);
    });
  }

  private grant(): () => void {
    this.inflight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inflight--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.inflight < this.capacity) {
      const w = this.waiting.shift()!;
      w.cancel();
      w.resolve(this.grant());
    }
  }
}
