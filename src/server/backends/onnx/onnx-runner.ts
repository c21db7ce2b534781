/** Worker thread entry: one onnxruntime session, one instance of a model version. */
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { datatypeFromOrt, ORT_TYPE, type Tensor, type TensorSpec } from '../../../core/index.js';
import { hostInstance, type Instance } from '../runner-host.js';

/** What the pool hands each onnx worker. */
export interface OnnxWorkerData {
  readonly modelPath: string;
  readonly threads: number;
}

function specsOf(meta: readonly ort.InferenceSession.ValueMetadata[], kind: string): TensorSpec[] {
  return meta.map((m) => {
    if (!m.isTensor)
      throw new Error(`${kind} "${m.name}" is not a tensor; only tensor inputs and outputs are supported`);
    const datatype = datatypeFromOrt(m.type);
    if (datatype === undefined)
      throw new Error(`${kind} "${m.name}" has type ${m.type}, which Flotilla cannot carry`);
    // Symbolic or unknown dimensions take any size.
    return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

const decoder = new TextDecoder();

function toOrt(t: Tensor): ort.Tensor {
  const shape = [...t.shape];
  if (t.datatype === 'BYTES')
    return new ort.Tensor(
      'string',
      t.data.map((b) => decoder.decode(b)),
      shape,
    );
  return new ort.Tensor(ORT_TYPE[t.datatype] as 'float32', t.data as Float32Array, shape);
}

function fromOrt(name: string, v: ort.Tensor): Tensor {
  const datatype = datatypeFromOrt(v.type);
  if (datatype === undefined)
    throw new Error(`output "${name}" has type ${v.type}, which Flotilla cannot carry`);
  const shape = v.dims.map(Number);
  if (datatype === 'BYTES') {
    return { name, datatype, shape, data: (v.data as string[]).map((s) => Buffer.from(s, 'utf8')) };
  }
  // Copy out of onnxruntime's memory so the buffer is ours to transfer.
  const data = (v.data as Float32Array).slice();
  return { name, datatype, shape, data } as Tensor;
}

async function load(): Promise<Instance> {
  const { modelPath, threads } = workerData as OnnxWorkerData;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return {
    inputs: specsOf(session.inputMetadata, 'input'),
    outputs: specsOf(session.outputMetadata, 'output'),
    async run(inputs, outputs) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) feeds[t.name] = toOrt(t);
      const result = await session.run(feeds, [...outputs]);
      return outputs.map((name) => fromOrt(name, result[name]!));
    },
  };
}

hostInstance(load);
