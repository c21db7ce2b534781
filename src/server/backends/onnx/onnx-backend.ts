import type { Clock } from '../../../core/index.js';
import type { Backend, BackendDeps, LoadedModel, ModelVersionSpec } from '../backend.js';
import { requireModelFile } from '../model-file.js';
import { WorkerPool } from '../worker-pool.js';
import type { OnnxWorkerData } from './onnx-runner.js';

/** Runs ONNX models with onnxruntime-node, one worker thread per instance. */
export class OnnxBackend implements Backend {
  readonly kind = 'onnx' as const;

  constructor(private readonly clock: Clock) {}

  async load(spec: ModelVersionSpec, deps: BackendDeps): Promise<LoadedModel> {
    const workerData: OnnxWorkerData = { modelPath: requireModelFile(spec), threads: spec.config.threads };
    return WorkerPool.startFor(spec, new URL('./onnx-runner.js', import.meta.url), workerData, {
      logger: deps.logger,
      clock: this.clock,
    });
  }
}
