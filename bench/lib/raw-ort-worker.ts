/**
 * A worker thread that runs an onnxruntime session as fast as it can for a fixed time: the raw
 * baseline of bench/serving with several threads (one session per thread, as serving does).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

export interface RawOrtJob {
  readonly modelPath: string;
  readonly inputName: string;
  /** Full input shape, batch first. */
  readonly shape: readonly number[];
  readonly durationMs: number;
  readonly intraOpThreads: number;
}

const job = workerData as RawOrtJob;
const session = await ort.InferenceSession.create(job.modelPath, {
  intraOpNumThreads: job.intraOpThreads,
  interOpNumThreads: 1,
});
const size = job.shape.reduce((a, b) => a * b, 1);
const data = Float32Array.from({ length: size }, (_, i) => ((i * 7919) % 255) / 255);
const feed = { [job.inputName]: new ort.Tensor('float32', data, [...job.shape]) };
await session.run(feed); // warm-up
let runs = 0;
const end = performance.now() + job.durationMs;
while (performance.now() < end) {
  await session.run(feed);
  runs++;
}
parentPort?.postMessage({ runs });
