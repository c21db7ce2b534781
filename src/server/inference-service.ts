import {
  asFlotillaError,
  type Clock,
  type InferRequest,
  type InferResponse,
  type Tensor,
} from '../core/index.js';
import { applyClassification, checkClassification } from './classification.js';
import type { ModelManager } from './repository/model-manager.js';
import { validateRequest } from './validate-request.js';

/**
 * The one entry every protocol front end calls: checks the request against the model, runs it
 * on a leased version (so an unload waits for it) and records metrics.
 */
export class InferenceService {
  constructor(
    private readonly manager: ModelManager,
    private readonly clock: Clock,
  ) {}

  async infer(req: InferRequest): Promise<InferResponse> {
    const start = this.clock.now();
    const lease = this.manager.acquire(req.model, req.version);
    lease.metrics.pending(1);
    try {
      const checked = validateRequest(
        req,
        { name: req.model, inputs: lease.inputs, outputs: lease.outputs },
        lease.config.maxBatchSize,
      );
      const batched = lease.config.maxBatchSize > 0;
      checkClassification(req.outputs, lease.outputs, batched);
      const run = await lease.loaded.execute(checked.inputs, checked.outputs);
      const { timing, execution } = run;
      const outputs = applyClassification(run.outputs, req.outputs, lease.labels, batched);
      lease.metrics.success({
        requestS: (this.clock.now() - start) / 1000,
        queueS: timing.queueMs / 1000,
        computeS: timing.computeMs / 1000,
        inferences: checked.batchSize,
        executions: execution === undefined || execution.leader ? 1 : 0,
      });
      return {
        model: req.model,
        version: String(lease.version),
        ...(req.id !== undefined ? { id: req.id } : {}),
        outputs,
      };
    } catch (err) {
      const e = asFlotillaError(err);
      lease.metrics.failure(e.code, (this.clock.now() - start) / 1000);
      throw e;
    } finally {
      lease.metrics.pending(-1);
      lease.release();
    }
  }

  /** For pipelines: a model calling another model of this server. */
  readonly call = async (
    model: string,
    version: string | undefined,
    inputs: readonly Tensor[],
    outputs: readonly string[] | undefined,
  ): Promise<readonly Tensor[]> => {
    const res = await this.infer({
      model,
      ...(version !== undefined ? { version } : {}),
      inputs,
      ...(outputs ? { outputs: outputs.map((name) => ({ name })) } : {}),
    });
    return res.outputs;
  };
}
