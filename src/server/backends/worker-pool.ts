import { Worker } from 'node:worker_threads';
import {
  type Clock,
  FlotillaError,
  InternalError,
  InvalidRequestError,
  type Logger,
  type Tensor,
  type TensorSpec,
} from '../../core/index.js';
import type { ExecuteResult, InferCall, LoadedModel, ModelVersionSpec } from './backend.js';
import { type FromWorker, type ToWorker, transferList, type WireError } from './worker-protocol.js';

export interface WorkerPoolOptions {
  /** The worker script (a runner that loads one model instance). */
  readonly script: URL;
  /** Handed to every worker as `workerData`. */
  readonly workerData: unknown;
  /** How many workers (model instances) run in parallel. */
  readonly instances: number;
  /** Names the model in logs and errors, e.g. `mnist:2`. */
  readonly label: string;
  /** A dynamic batcher feeds the pool batches of more than one request. */
  readonly batched: boolean;
}

export interface WorkerPoolDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Serves calls a worker makes to other models (js pipelines). */
  readonly infer?: InferCall;
}

interface Job {
  readonly id: number;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[];
  readonly enqueuedAt: number;
  dispatchedAt: number;
  readonly resolve: (r: ExecuteResult) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not yet answered, oldest first. */
  jobs: Job[];
  ready: boolean;
}

/**
 * How many jobs a worker may hold at once. For fast models a second job hides the thread hop (the
 * worker starts it without waiting for the main thread to see the last result): +20% on mnist.
 * Batches get the same: between two batches the main thread answers and decodes a whole batch of
 * requests, and a worker waiting through that idles for a share of every batch (ocr_cls at
 * concurrency 16 served more without batching than with it, bench/results/serving.md). Other
 * slow models get one job at a time, so no request queues behind a long run while another
 * instance may free up first.
 */
export function pipelineDepth(averageComputeMs: number, batched = false): number {
  return batched || averageComputeMs < FAST_MODEL_MS ? 2 : 1;
}

const FAST_MODEL_MS = 2;
/** Weight of the newest sample in the compute-time average. */
const EWMA_ALPHA = 0.1;

/** The error a caller sees for one a model instance reported. */
export function errorFromWorker(e: WireError, label: string): FlotillaError {
  // A module refusing its input on purpose (see JsModelModule.infer) is the caller's mistake.
  if (e.code === 'FLT_INVALID_FIELD') return new InvalidRequestError(e.code, `${label}: ${e.message}`);
  return new InternalError('FLT_INFERENCE_FAILED', `${label}: ${e.message}`);
}

/**
 * Model instances as worker threads: onnxruntime's `run` blocks its thread for the whole
 * inference, so each instance gets a thread of its own and the main thread only moves bytes.
 * Jobs wait in one FIFO queue and go to the first idle instance; a worker that dies is replaced
 * and its job fails rather than hangs.
 */
export class WorkerPool implements LoadedModel {
  private availableListener: (() => void) | undefined;
  inputs: readonly TensorSpec[] = [];
  outputs: readonly TensorSpec[] = [];
  /** A batch-1 run's time as the first instance measured it at load, if it did. */
  runMs: number | undefined;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;
  /** Moving average of compute time; starts "slow" so nothing is pipelined before it is measured. */
  private computeMs = FAST_MODEL_MS;

  constructor(
    private readonly options: WorkerPoolOptions,
    private readonly deps: WorkerPoolDeps,
  ) {}

  get placement(): { readonly kind: 'worker'; readonly instances: number } {
    return { kind: 'worker', instances: this.options.instances };
  }

  /** Starts `spec.config.instances` workers running `script` for one model version. */
  static async startFor(
    spec: ModelVersionSpec,
    script: URL,
    workerData: unknown,
    deps: WorkerPoolDeps,
  ): Promise<WorkerPool> {
    const pool = new WorkerPool(
      {
        script,
        workerData,
        instances: spec.config.instances,
        label: `${spec.name}:${spec.version}`,
        batched: spec.config.dynamicBatching !== undefined && spec.config.maxBatchSize > 1,
      },
      deps,
    );
    await pool.start();
    return pool;
  }

  /**
   * Starts every instance; resolves once all have loaded the model, rejects with the first
   * failure once every instance has finished trying. Terminating a worker while onnxruntime is
   * still creating its session aborts the whole process ("terminate called after throwing an
   * instance of 'Napi::Error'", SIGABRT: one in four starts of a repository with a corrupt
   * version of a two-instance model), so the others' loads are waited for first.
   */
  async start(): Promise<void> {
    const loads = await Promise.allSettled(
      Array.from({ length: this.options.instances }, () => this.spawn()),
    );
    const failed = loads.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) {
      await this.unload();
      throw failed.reason;
    }
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = new Worker(this.options.script, { workerData: this.options.workerData });
      const slot: Slot = { worker, jobs: [], ready: false };
      this.slots.push(slot);
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          this.inputs = msg.inputs;
          this.outputs = msg.outputs;
          this.runMs ??= msg.runMs;
          slot.ready = true;
          resolve();
          this.pump();
          this.availableListener?.();
        } else if (msg.type === 'load-failed') {
          reject(new InternalError('FLT_MODEL_LOAD_FAILED', `${this.options.label}: ${msg.error.message}`));
        } else {
          this.onMessage(slot, msg);
        }
      });
      worker.on('error', (err) => {
        this.deps.logger.error('model instance crashed', { model: this.options.label, error: err.message });
        if (!slot.ready)
          reject(new InternalError('FLT_MODEL_LOAD_FAILED', `${this.options.label}: ${err.message}`));
        this.failJob(
          slot,
          new InternalError(
            'FLT_INFERENCE_FAILED',
            `${this.options.label}: instance crashed: ${err.message}`,
          ),
        );
      });
      worker.on('exit', (code) => {
        const index = this.slots.indexOf(slot);
        if (index >= 0) this.slots.splice(index, 1);
        this.failJob(
          slot,
          new InternalError('FLT_INFERENCE_FAILED', `${this.options.label}: instance exited (code ${code})`),
        );
        if (!slot.ready) {
          reject(
            new InternalError(
              'FLT_MODEL_LOAD_FAILED',
              `${this.options.label}: instance exited (code ${code})`,
            ),
          );
        } else if (!this.closing) {
          this.deps.logger.warn('replacing model instance', { model: this.options.label, exitCode: code });
          this.spawn().catch((err: Error) =>
            this.deps.logger.error('could not replace model instance', {
              model: this.options.label,
              error: err.message,
            }),
          );
        }
      });
    });
  }

  /** A job left an instance: start queued work, then tell the batcher in front. */
  private finished(): void {
    this.pump();
    this.availableListener?.();
  }

  private failJob(slot: Slot, err: Error): void {
    for (const job of slot.jobs.splice(0)) job.reject(err);
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.type) {
      case 'result': {
        const job = slot.jobs.shift();
        this.computeMs += EWMA_ALPHA * (msg.computeMs - this.computeMs);
        if (job?.id === msg.id) {
          job.resolve({
            outputs: msg.outputs,
            timing: { queueMs: job.dispatchedAt - job.enqueuedAt, computeMs: msg.computeMs },
          });
        }
        this.finished();
        return;
      }
      case 'error': {
        const job = slot.jobs.shift();
        if (job?.id === msg.id) job.reject(errorFromWorker(msg.error, this.options.label));
        this.finished();
        return;
      }
      case 'call':
        this.serveCall(slot.worker, msg);
        return;
      default:
        return;
    }
  }

  private serveCall(worker: Worker, msg: Extract<FromWorker, { type: 'call' }>): void {
    const infer = this.deps.infer;
    const reply = (m: ToWorker, transfer: ArrayBuffer[] = []): void => worker.postMessage(m, transfer);
    if (!infer) {
      reply({
        type: 'call-error',
        callId: msg.callId,
        error: { message: 'calls to other models are not available' },
      });
      return;
    }
    infer(msg.model, msg.version, msg.inputs, msg.outputs).then(
      (outputs) => {
        const { tensors, transfer } = transferList(outputs);
        reply({ type: 'call-result', callId: msg.callId, outputs: tensors }, transfer);
      },
      (err: unknown) => {
        const e =
          err instanceof FlotillaError ? { message: err.message, code: err.code } : { message: String(err) };
        reply({ type: 'call-error', callId: msg.callId, error: e });
      },
    );
  }

  execute(inputs: readonly Tensor[], outputs: readonly string[]): Promise<ExecuteResult> {
    if (this.closing) {
      return Promise.reject(new InternalError('FLT_INFERENCE_FAILED', `${this.options.label}: unloaded`));
    }
    return new Promise<ExecuteResult>((resolve, reject) => {
      const now = this.deps.clock.now();
      this.queue.push({
        id: this.nextId++,
        inputs,
        outputs,
        enqueuedAt: now,
        dispatchedAt: now,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Number of executions waiting for an instance. */
  get queued(): number {
    return this.queue.length;
  }

  /** Executions that would start now rather than wait (a batcher in front reads this). */
  available(): number {
    const depth = pipelineDepth(this.computeMs, this.options.batched);
    let free = 0;
    for (const s of this.slots) if (s.ready) free += Math.max(0, depth - s.jobs.length);
    return Math.max(0, free - this.queue.length);
  }

  /** Called whenever an instance frees up or starts. */
  onAvailable(listener: () => void): void {
    this.availableListener = listener;
  }

  private pump(): void {
    const depth = pipelineDepth(this.computeMs, this.options.batched);
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) {
        if (s.ready && s.jobs.length < depth && (!slot || s.jobs.length < slot.jobs.length)) slot = s;
      }
      if (!slot) return;
      const job = this.queue.shift()!;
      job.dispatchedAt = this.deps.clock.now();
      slot.jobs.push(job);
      const { tensors, transfer } = transferList(job.inputs);
      const msg: ToWorker = { type: 'execute', id: job.id, inputs: tensors, outputs: job.outputs };
      slot.worker.postMessage(msg, transfer);
    }
  }

  async unload(): Promise<void> {
    this.closing = true;
    const pending = this.queue.splice(0);
    for (const job of pending)
      job.reject(new InternalError('FLT_INFERENCE_FAILED', `${this.options.label}: unloaded`));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
