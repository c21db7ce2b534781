/** Worker thread entry: one onnxruntime session, one instance of a model version. */
import { workerData } from 'node:worker_threads';
import { hostInstance } from '../runner-host.js';
import { openOnnxInstance, timeBatchOfOne } from './onnx-session.js';

/** What the pool hands each onnx worker. */
export interface OnnxWorkerData {
  readonly modelPath: string;
  readonly threads: number;
  /** Time a batch-1 run before reporting ready (for `instance_kind: auto`). */
  readonly timeRun: boolean;
}

hostInstance(async () => {
  const { modelPath, threads, timeRun } = workerData as OnnxWorkerData;
  const instance = await openOnnxInstance(modelPath, threads);
  const runMs = timeRun ? await timeBatchOfOne(instance) : undefined;
  return { ...instance, ...(runMs !== undefined ? { runMs } : {}) };
});
