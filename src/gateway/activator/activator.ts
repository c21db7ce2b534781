import { UnavailableError } from '../../core/index.js';

/** Timers as a dependency, so the activator runs on a simulated clock in tests. */
export interface ActivatorTimers {
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export interface ActivatorOptions {
  /**
   * Requests one ready replica is given at most (Knative's `containerConcurrency`, a hard limit);
   * 0 = unlimited: every request passes as soon as one replica is ready.
   */
  readonly containerConcurrency: number;
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
    retryAfterS: number,
  ) {
    super(code, message, { retryAfterS });
  }
}

/** Ends one admitted request (idempotent). */
export type Release = () => void;

interface Waiter {
  readonly resolve: (release: Release) => void;
  readonly reject: (err: Error) => void;
  cancel: () => void;
}

/**
 * Holds requests for a variant whose capacity is short and releases them as capacity appears, as
 * Knative's activator throttles: with no ready replica nothing passes (scale from zero); then at
 * most `containerConcurrency` × ready requests are in flight, or any number when it is 0. The
 * autoscaling target is not a limit here (it only decides how many replicas to run), so a load
 * step is served by the replicas already up while more start. The queue is bounded and every
 * wait has a timeout, so nothing hangs.
 */
export class Activator {
  private readyReplicas = 0;
  private inflight = 0;
  private readonly waiting: Waiter[] = [];
  /** Called when a request has to wait with no replica ready (the autoscaler should act now). */
  onDemand: (() => void) | undefined;

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

  /** Ready replicas now. */
  get ready(): number {
    return this.readyReplicas;
  }

  /** Requests that may be in flight now. */
  get capacity(): number {
    if (this.readyReplicas === 0) return 0;
    const perReplica = this.options.containerConcurrency;
    return perReplica === 0 ? Number.POSITIVE_INFINITY : this.readyReplicas * perReplica;
  }

  /** The variant's ready replicas changed: release what the new capacity allows. */
  setReadyReplicas(ready: number): void {
    this.readyReplicas = Math.max(0, ready);
    this.drain();
  }

  /**
   * Admits one request: a Release at once when there is capacity (no promise on the hot path),
   * otherwise a promise of one once capacity appears. The promise rejects with an ActivationError
   * (503, Retry-After) when the queue is full or the wait times out.
   */
  admit(label: string): Release | Promise<Release> {
    if (this.waiting.length === 0 && this.inflight < this.capacity) return this.grant();
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(
        new ActivationError(
          'FLT_ACTIVATION_QUEUE_FULL',
          `${label}: ${this.waiting.length} requests are already waiting for a replica to start`,
          this.options.retryAfterS,
        ),
      );
    }
    const wait = new Promise<Release>((resolve, reject) => {
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
    if (this.readyReplicas === 0) this.onDemand?.();
    return wait;
  }

  /** Like `admit`, always as a promise. */
  acquire(label: string): Promise<Release> {
    return Promise.resolve(this.admit(label));
  }

  /** Refuses every waiting request (the variant is going away). */
  rejectAll(err: Error): void {
    for (const w of this.waiting.splice(0)) {
      w.cancel();
      w.reject(err);
    }
  }

  private grant(): Release {
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
