import type { Clock } from '../../../core/index.js';
import type { Backend, BackendDeps, LoadedModel, ModelVersionSpec } from '../backend.js';
import { requireModelFile } from '../model-file.js';
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
    const workerData: JsWorkerData = {
      modulePath: requireModelFile(spec),
      name: spec.name,
      version: spec.version,
      modelDir: spec.modelDir,
      versionDir: spec.versionDir,
      parameters: spec.config.parameters,
      labels: spec.labels,
      inputs: spec.config.inputs ?? [],
      outputs: spec.config.outputs ?? [],
    };
    return WorkerPool.startFor(spec, new URL('./js-runner.js', import.meta.url), workerData, {
      logger: deps.logger,
      clock: this.clock,
      infer: deps.infer,
    });
  }
}
