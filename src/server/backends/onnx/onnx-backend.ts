import { existsSync } from 'node:fs';
import { type Clock, InternalError } from '../../../core/index.js';
import type { Backend, BackendDeps, LoadedModel, ModelVersionSpec } from '../backend.js';
import { resolveModelFile } from '../model-file.js';
import { WorkerPool } from '../worker-pool.js';
import type { OnnxWorkerData } from './onnx-runner.js';

/** Runs ONNX models with onnxruntime-node, one worker thread per instance. */
export class OnnxBackend implements Backend {
  readonly kind = 'onnx' as const;

  constructor(private readonly clock: Clock) {}

  async load(spec: ModelVersionSpec, deps: BackendDeps): Promise<LoadedModel> {
    const modelPath = resolveModelFile(spec.config.modelFile, spec.versionDir);
    if (modelPath === undefined || !existsSync(modelPath)) {
      throw new InternalError(
        'FLT_MODEL_LOAD_FAILED',
        `${spec.name}:${spec.version}: model_file not found: ${modelPath ?? spec.config.modelFile}`,
      );
    }
    const workerData: OnnxWorkerData = { modelPath, threads: spec.config.threads };
    const pool = new WorkerPool(
      {
        script: new URL('./onnx-runner.js', import.meta.url),
        workerData,
        instances: spec.config.instances,
        label: `${spec.name}:${spec.version}`,
      },
      { logger: deps.logger, clock: this.clock },
    );
    await pool.start();
    return pool;
  }
}
