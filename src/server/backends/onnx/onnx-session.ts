/** One onnxruntime session and the conversions to and from Flotilla tensors (worker or inline). */
import * as ort from 'onnxruntime-node';
import { datatypeFromOrt, ORT_TYPE, type Tensor, type TensorSpec, TYPED_ARRAY } from '../../../core/index.js';
import type { Instance } from '../runner-host.js';

/** A model instance (what it takes and gives, how to run it) whose session can be released. */
export interface OnnxInstance extends Instance {
  release(): Promise<void>;
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
  // onnxruntime-node hands each output over in an ArrayBuffer of its own (copied out of its
  // memory), so it is kept and transferred as it is; transferList copies any partial view.
  return { name, datatype, shape, data: v.data } as Tensor;
}

/** Creates a session for `modelPath` with `threads` intra-op threads. */
export async function openOnnxInstance(modelPath: string, threads: number): Promise<OnnxInstance> {
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
    release: () => session.release(),
  };
}

/**
 * Milliseconds one batch-1 run takes (the fastest of five, after a first run that warms the
 * session up), on zero inputs; undefined when the model's inputs have free dimensions past the
 * batch one (a guess at their size would say nothing of real requests) or the run fails.
 */
export async function timeBatchOfOne(instance: OnnxInstance): Promise<number | undefined> {
  const tensors: Tensor[] = [];
  for (const spec of instance.inputs) {
    if (spec.datatype === 'BYTES' || spec.shape.slice(1).some((d) => d < 0)) return undefined;
    const shape = spec.shape.map((d, i) => (i === 0 && d < 0 ? 1 : d));
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new TYPED_ARRAY[spec.datatype](size);
    tensors.push({ name: spec.name, datatype: spec.datatype, shape, data } as Tensor);
  }
  const names = instance.outputs.map((o) => o.name);
  try {
    await instance.run(tensors, names);
    // The best of several: a run preempted on a busy machine must not decide placement.
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await instance.run(tensors, names);
      best = Math.min(best, performance.now() - start);
    }
    return best;
  } catch {
    return undefined;
  }
}
