import { type Clock, InternalError, type Tensor, type TensorSpec } from '../../core/index.js';
import type { ExecuteResult, LoadedModel } from './backend.js';
import type { OnnxInstance } from './onnx/onnx-session.js';

interface Job {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[];
  readonly enqueuedAt: number;
  readonly resolve: (r: ExecuteResult) => void;
  readonly reject: (e: Error) => void;
}

/**
 * One model instance on the server's own thread (`instance_kind: inline`). For a model whose run
 * takes microseconds, the hop to a worker thread and back costs more CPU than the inference, so
 * running it here, one execution at a time, serves more requests per core. The run blocks the
 * event loop for its duration: only for models that are that fast.
 */
export class InlineInstance implements LoadedModel {
  private readonly queue: Job[] = [];
  private running = false;
  private closing = false;
  private availableListener: (() => void) | undefined;
  readonly placement = { kind: 'inline', instances: 1 } as const;

  constructor(
    private readonly instance: OnnxInstance,
    private readonly label: string,
    private readonly clock: Clock,
  ) {}

  get inputs(): readonly TensorSpec[] {
    return this.instance.inputs;
  }

  get outputs(): readonly TensorSpec[] {
    return this.instance.outputs;
  }

  execute(inputs: readonly Tensor[], outputs: readonly string[]): Promise<ExecuteResult> {
    if (this.closing)
      return Promise.reject(new InternalError('FLT_INFERENCE_FAILED', `${this.label}: unloaded`));
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, outputs, enqueuedAt: this.clock.now(), resolve, reject });
      this.pump();
    });
  }

  /** Executions that would start now (a batcher in front reads this). */
  available(): number {
    return this.running || this.queue.length > 0 ? 0 : 1;
  }

  onAvailable(listener: () => void): void {
    this.availableListener = listener;
  }

  private pump(): void {
    if (this.running) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = true;
    const start = this.clock.now();
    this.instance.run(job.inputs, job.outputs).then(
      (outputs) => {
        const end = this.clock.now();
        job.resolve({ outputs, timing: { queueMs: start - job.enqueuedAt, computeMs: end - start } });
        this.finished();
      },
      (err: unknown) => {
        job.reject(
          new InternalError(
            'FLT_INFERENCE_FAILED',
            `${this.label}: ${err instanceof Error ? err.message : String(err)}`,
          ),
        );
        this.finished();
      },
    );
  }

  private finished(): void {
    this.running = false;
    this.pump();
    this.availableListener?.();
  }

  async unload(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0))
      job.reject(new InternalError('FLT_INFERENCE_FAILED', `${this.label}: unloaded`));
    await this.instance.release();
  }
}
