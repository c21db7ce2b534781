import { type Clock, InternalError } from '../../../core/index.js';
import type { Backend, BackendDeps, LoadedModel, ModelVersionSpec } from '../backend.js';
import { InlineInstance } from '../inline-instance.js';
import { requireModelFile } from '../model-file.js';
import { WorkerPool } from '../worker-pool.js';
import type { OnnxWorkerData } from './onnx-runner.js';
import { openOnnxInstance } from './onnx-session.js';

/**
 * Below this batch-1 run time a model runs inline: the round trip to a worker thread costs the
 * main thread about as much (postMessage both ways, wake-ups), so for such a model the hop, not
 * inference, would be the work (measured on mnist: bench/results/serving.md).
 */
export const INLINE_BELOW_MS = 0.1;

/** Runs ONNX models with onnxruntime-node: one worker thread per instance, or inline. */
export class OnnxBackend implements Backend {
  readonly kind = 'onnx' as const;

  constructor(private readonly clock: Clock) {}

  async load(spec: ModelVersionSpec, deps: BackendDeps): Promise<LoadedModel> {
    const modelPath = requireModelFile(spec);
    const { instanceKind, threads } = spec.config;
    const label = `${spec.name}:${spec.version}`;
    if (instanceKind === 'inline') return this.inline(modelPath, threads, label);
    const workerData: OnnxWorkerData = { modelPath, threads, timeRun: instanceKind === 'auto' };
    const pool = await WorkerPool.startFor(spec, new URL('./onnx-runner.js', import.meta.url), workerData, {
      logger: deps.logger,
      clock: this.clock,
    });
    if (instanceKind !== 'auto' || pool.runMs === undefined || pool.runMs >= INLINE_BELOW_MS) return pool;
    // Fast enough that the thread hop would cost more than the model: swap the workers for an
    // instance on this thread (a small model, so its session opens in milliseconds).
    const inline = await this.inline(modelPath, threads, label);
    await pool.unload();
    deps.logger.info('running model inline', {
      model: spec.name,
      version: String(spec.version),
      batchOfOneMs: Number(pool.runMs.toFixed(3)),
      belowMs: INLINE_BELOW_MS,
    });
    return inline;
  }

  private async inline(modelPath: string, threads: number, label: string): Promise<LoadedModel> {
    try {
      return new InlineInstance(await openOnnxInstance(modelPath, threads), label, this.clock);
    } catch (err) {
      throw new InternalError('FLT_MODEL_LOAD_FAILED', `${label}: ${(err as Error).message}`, { cause: err });
    }
  }
}
