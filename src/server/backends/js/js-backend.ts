import { existsSync } from 'node:fs';
import { type Clock, InternalError } from '../../../core/index.js';
import type { Backend, BackendDeps, LoadedModel, ModelVersionSpec } from '../backend.js';
import { resolveModelFile } from '../model-file.js';
import { WorkerPool } from '../worker-pool.js';
import type { JsWorkerData } from './js-runner.js';

/**
 * Runs a JavaScript module per version folder (pre/post-processing, pipelines that call other
 * models). Modules run in worker threads like onnx instances, so their CPU work never stalls
 * the server's I/O.
 */
export class JsBackend implements Backend {
  readonly kind = 'js' as const;

  constructor(private readonly clock: Clock) {}

  async load(spec: ModelVersionSpec, deps: BackendDeps): Promise<LoadedModel> {
    const modulePath = resolveModelFile(spec.config.modelFile, spec.versionDir);
    if (modulePath === undefined || !existsSync(modulePath)) {
      throw new InternalError(
        'FLT_MODEL_LOAD_FAILED',
        `${spec.name}:${spec.version}: model_file not found: ${modulePath ?? spec.config.modelFile}`,
      );
    }
    const workerData: JsWorkerData = {
      modulePath,
      name: spec.name,
      version: spec.version,
      modelDir: spec.modelDir,
      versionDir: spec.versionDir,
      parameters: spec.config.parameters,
      labels: spec.labels,
      inputs: spec.config.inputs ?? [],
      outputs: spec.config.outputs ?? [],
    };
    const pool = new WorkerPool(
      {
        script: new URL('./js-runner.js', import.meta.url),
        workerData,
        instances: spec.config.instances,
        label: `${spec.name}:${spec.version}`,
      },
      { logger: deps.logger, clock: this.clock, infer: deps.infer },
    );
    await pool.start();
    return pool;
  }
}
