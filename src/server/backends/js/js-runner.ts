/** Worker thread entry: one instance of a `js` backend module. */
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import { elementCount, type Tensor, type TensorSpec } from '../../../core/index.js';
import { tensorDataFromJson } from '../../../protocol/oip-rest/index.js';
import { resolveModelFile } from '../model-file.js';
import { callModel, hostInstance, type Instance } from '../runner-host.js';
import type { JsModelContext, JsModelModule, TensorLike } from './js-model-api.js';

/** What the pool hands each js worker. */
export interface JsWorkerData {
  readonly modulePath: string;
  readonly name: string;
  readonly version: number;
  readonly modelDir: string;
  readonly versionDir: string;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  readonly labels: readonly string[] | undefined;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** Turns a tensor-like value (plain arrays allowed) into a tensor; `field` names it in errors. */
export function toTensor(name: string, value: TensorLike, field: string): Tensor {
  const data = ArrayBuffer.isView(value.data)
    ? value.data
    : value.data.length > 0 && value.data[0] instanceof Uint8Array
      ? (value.data as unknown as Uint8Array[])
      : tensorDataFromJson(value.datatype, value.data, field);
  const count = elementCount(value.shape);
  if (data.length !== count) {
    throw new Error(
      `${field} has ${data.length} elements but shape [${value.shape.join(',')}] holds ${count}`,
    );
  }
  return { name, datatype: value.datatype, shape: [...value.shape], data } as Tensor;
}

async function load(): Promise<Instance> {
  const wd = workerData as JsWorkerData;
  const mod = (await import(pathToFileURL(wd.modulePath).href)) as Partial<JsModelModule>;
  if (typeof mod.infer !== 'function') throw new Error(`${wd.modulePath} does not export an infer function`);
  const infer = mod.infer;
  const ctx: JsModelContext = {
    model: wd.name,
    version: wd.version,
    modelDir: wd.modelDir,
    versionDir: wd.versionDir,
    parameters: wd.parameters,
    labels: wd.labels,
    resolve(file) {
      const path = resolveModelFile(file, wd.versionDir);
      if (path === undefined) throw new Error(`cannot resolve ${file}: package not installed`);
      return path;
    },
    async infer(model, inputs, options = {}) {
      const tensors = Object.entries(inputs).map(([n, v]) => toTensor(n, v, `input "${n}" of ${model}`));
      const outputs = await callModel(model, options.version, tensors, options.outputs);
      return Object.fromEntries(outputs.map((t) => [t.name, t]));
    },
  };
  await mod.load?.(ctx);
  const outputSpecs = new Map(wd.outputs.map((o) => [o.name, o]));
  return {
    inputs: wd.inputs,
    outputs: wd.outputs,
    async run(inputs, outputs) {
      const result = await infer(Object.fromEntries(inputs.map((t) => [t.name, t])), ctx);
      return outputs.map((name) => {
        const value = result[name];
        if (value === undefined) throw new Error(`infer did not return output "${name}"`);
        const spec = outputSpecs.get(name);
        if (value.datatype !== spec?.datatype) {
          throw new Error(
            `output "${name}" has datatype ${value.datatype} but the config declares ${spec?.datatype}`,
          );
        }
        return toTensor(name, value, `output "${name}"`);
      });
    },
  };
}

hostInstance(load);
