import { type Clock, type Tensor, UnavailableError } from '../../core/index.js';
import type { ExecuteResult, LoadedModel } from '../backends/backend.js';
import { type BatchPolicyConfig, decideBatch, type QueuedItem } from './batch-policy.js';
import { batchKey, concatInputs, splitOutputs } from './batch-tensors.js';

/** What the batcher runs batches on: a loaded model that says how much it can start now. */
export interface BatchExecutor extends LoadedModel {
  /** Executions it can start now without queueing them itself. */
  available(): number;
  /** Registers a callback for when capacity frees up. */
  onAvailable(listener: () => void): void;
}

/** Timers as a dependency, so the batcher runs on a simulated clock in tests. */
export interface Timers {
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const realTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export interface DynamicBatcherOptions extends BatchPolicyConfig {
  /** Requests allowed to wait; more are refused at once (0 = no limit). */
  readonly maxQueueSize: number;
  /** How long a request may wait for a batch before it is refused (0 = no limit). */
  readonly queueTimeoutMs: number;
  /** Names the model in errors. */
  readonly label: string;
}

interface Pending extends QueuedItem {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[];
  readonly resolve: (r: ExecuteResult) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Triton's dynamic batcher in front of a model's instances: requests queue, and whenever an
 * instance can take work the pure `decideBatch` picks a prefix of the queue to join along
 * dimension 0; the outputs are split back per request. The timers here only wake the decision.
 */
export class DynamicBatcher implements LoadedModel {
  private readonly queue: Pending[] = [];
  private cancelWake: (() => void) | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly executor: BatchExecutor,
    private readonly options: DynamicBatcherOptions,
    private readonly deps: { readonly clock: Clock; readonly timers: Timers },
  ) {
    executor.onAvailable(() => this.pump());
  }

  get inputs(): LoadedModel['inputs'] {
    return this.executor.inputs;
  }

  get outputs(): LoadedModel['outputs'] {
    return this.executor.outputs;
  }

  /** Requests waiting for a batch. */
  get queued(): number {
    return this.queue.length;
  }

  execute(inputs: readonly Tensor[], outputs: readonly string[]): Promise<ExecuteResult> {
    if (this.options.maxQueueSize > 0 && this.queue.length >= this.options.maxQueueSize) {
      return Promise.reject(
        new UnavailableError(
          'FLT_QUEUE_FULL',
          `${this.options.label}: the queue is full (${this.options.maxQueueSize} requests waiting)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const size = inputs[0]?.shape[0] ?? 1;
      this.queue.push({
        size,
        arrivedAt: this.deps.clock.now(),
        key: batchKey(inputs),
        inputs,
        outputs,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  private pump(): void {
    this.expire();
    while (this.queue.length > 0 && this.executor.available() > 0) {
      const now = this.deps.clock.now();
      const decision = decideBatch(this.queue, now, this.options);
      if (decision.kind === 'wait') {
        this.wake(decision.untilMs - now);
        return;
      }
      if (decision.kind === 'idle') return;
      this.dispatch(this.queue.splice(0, decision.count), now);
    }
    if (this.queue.length > 0 && this.options.queueTimeoutMs > 0) {
      this.wake(this.queue[0]!.arrivedAt + this.options.queueTimeoutMs - this.deps.clock.now());
    }
  }

  private dispatch(batch: Pending[], now: number): void {
    const names = [...new Set(batch.flatMap((p) => p.outputs))];
    this.executor.execute(concatInputs(batch.map((p) => p.inputs)), names).then(
      (result) => {
        let parts: Tensor[][];
        try {
          parts = splitOutputs(
            result.outputs,
            batch.map((p) => p.size),
          );
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
          return;
        }
        batch.forEach((p, i) => {
          const own = parts[i]!.filter((t) => p.outputs.includes(t.name));
          p.resolve({
            outputs: own,
            timing: {
              queueMs: now - p.arrivedAt + result.timing.queueMs,
              computeMs: result.timing.computeMs,
            },
            execution: { requests: batch.length, leader: i === 0 },
          });
        });
      },
      (err: Error) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  /** Refuses requests that waited longer than the queue timeout. */
  private expire(): void {
    if (this.options.queueTimeoutMs <= 0) return;
    const limit = this.deps.clock.now() - this.options.queueTimeoutMs;
    while (this.queue.length > 0 && this.queue[0]!.arrivedAt <= limit) {
      this.queue
        .shift()!
        .reject(
          new UnavailableError(
            'FLT_QUEUE_TIMEOUT',
            `${this.options.label}: waited over ${this.options.queueTimeoutMs} ms for an instance`,
          ),
        );
    }
  }

  private wake(inMs: number): void {
    const at = this.deps.clock.now() + Math.max(0, inMs);
    if (at >= this.wakeAt) return;
    this.cancelWake?.();
    this.wakeAt = at;
    this.cancelWake = this.deps.timers.after(Math.max(0, inMs), () => {
      this.cancelWake = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.pump();
    });
  }

  unload(): Promise<void> {
    this.cancelWake?.();
    return this.executor.unload();
  }
}
