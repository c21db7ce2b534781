import { elementCount, isDatatype, type Tensor, type TensorSpec } from '../../core/index.js';
import { tensorDataFromJson } from '../../protocol/oip-rest/index.js';
import { BenchArgumentError } from '../errors.js';

/** The tensors of one request, and the expected label of each batch row when it comes from a dataset. */
export interface Payload {
  readonly inputs: readonly Tensor[];
  readonly labels?: readonly string[];
}

/** A model input, with the shape its config declares as typical when it has free dimensions. */
export interface InputSpec extends TensorSpec {
  readonly typicalShape?: readonly number[];
}

/** What a model takes and gives (from its OIP metadata). */
export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly TensorSpec[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function specList(value: unknown, where: string): InputSpec[] {
  if (!Array.isArray(value)) throw new BenchArgumentError(`${where}: expected a list of tensors`);
  return value.map((t, i) => {
    const name = isObject(t) ? t['name'] : undefined;
    const datatype = isObject(t) ? t['datatype'] : undefined;
    const shape = isObject(t) ? t['shape'] : undefined;
    if (
      typeof name !== 'string' ||
      typeof datatype !== 'string' ||
      !isDatatype(datatype) ||
      !Array.isArray(shape)
    )
      throw new BenchArgumentError(
        `${where}[${i}]: expected {name, datatype, shape}, got ${JSON.stringify(t)}`,
      );
    const typical = isObject(t) ? t['typical_shape'] : undefined;
    const typicalShape =
      Array.isArray(typical) && typical.length > 0 && typical.every((d) => Number.isInteger(d) && d > 0)
        ? (typical as number[])
        : undefined;
    return { name, datatype, shape: shape.map(Number), ...(typicalShape ? { typicalShape } : {}) };
  });
}

/** Reads `GET /v2/models/{m}` (or the gRPC ModelMetadata answer, whose dims are strings). */
export function parseModelMetadata(value: unknown, where: string): ModelMetadata {
  if (!isObject(value)) throw new BenchArgumentError(`${where}: model metadata is not an object`);
  return {
    name: String(value['name'] ?? ''),
    versions: Array.isArray(value['versions']) ? value['versions'].map(String) : [],
    inputs: specList(value['inputs'], `${where} inputs`),
    outputs: specList(value['outputs'], `${where} outputs`),
  };
}

/**
 * One tensor written as `{"datatype", "shape", "data"}` (data flat or nested, OIP's JSON form),
 * read with OIP REST's own JSON tensor reader.
 */
export function namedTensor(name: string, value: unknown, where: string): Tensor {
  if (!isObject(value)) throw new BenchArgumentError(`${where}: expected {datatype, shape, data}`);
  const { datatype, shape, data } = value;
  if (typeof datatype !== 'string' || !isDatatype(datatype))
    throw new BenchArgumentError(`${where}.datatype: ${JSON.stringify(datatype)} is not an OIP datatype`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new BenchArgumentError(`${where}.shape: expected a list of sizes, got ${JSON.stringify(shape)}`);
  let tensorData: Tensor['data'];
  try {
    tensorData = tensorDataFromJson(datatype, data, `${where}.data`);
  } catch (err) {
    throw new BenchArgumentError((err as Error).message, { cause: err });
  }
  const count = elementCount(shape as number[]);
  if (tensorData.length !== count)
    throw new BenchArgumentError(
      `${where}.data: ${tensorData.length} elements but shape [${shape.join(',')}] holds ${count}`,
    );
  return { name, datatype, shape: shape as number[], data: tensorData } as Tensor;
}

/** `{name: {datatype, shape, data}, …}` as tensors. */
export function namedTensors(value: unknown, where: string): Tensor[] {
  if (!isObject(value) || Object.keys(value).length === 0)
    throw new BenchArgumentError(`${where}: expected an object {input_name: {datatype, shape, data}}`);
  return Object.entries(value).map(([name, t]) => namedTensor(name, t, `${where}.${name}`));
}

/** An OIP request body's `inputs` list as tensors. */
export function oipInputs(value: unknown, where: string): Tensor[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BenchArgumentError(`${where}: expected a non-empty list of {name, datatype, shape, data}`);
  return value.map((t, i) => {
    const name = isObject(t) ? t['name'] : undefined;
    if (typeof name !== 'string') throw new BenchArgumentError(`${where}[${i}].name: expected a string`);
    return namedTensor(name, t, `${where}[${i}]`);
  });
}

/**
 * The contents of `--input-data FILE`: one OIP request body (`{"inputs": [{name, datatype, shape,
 * data}]}`) or named tensors (`{"image": {datatype, shape, data}}`).
 */
export function parseInputData(text: string, file: string): Payload {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BenchArgumentError(`--input-data ${file}: not JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (isObject(value) && Array.isArray(value['inputs']))
    return { inputs: oipInputs(value['inputs'], `--input-data ${file}: inputs`) };
  return { inputs: namedTensors(value, `--input-data ${file}`) };
}

/** Checks tensors against the model's inputs, so a wrong file fails before the run, not 10,000 times. */
export function checkAgainstModel(
  inputs: readonly Tensor[],
  specs: readonly TensorSpec[],
  where: string,
): void {
  for (const spec of specs) {
    const t = inputs.find((x) => x.name === spec.name);
    if (!t) throw new BenchArgumentError(`${where}: the model's input "${spec.name}" is missing`);
    if (t.datatype !== spec.datatype)
      throw new BenchArgumentError(
        `${where}: input "${t.name}" is ${t.datatype} but the model takes ${spec.datatype}`,
      );
    const fits =
      t.shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === t.shape[i]);
    if (!fits)
      throw new BenchArgumentError(
        `${where}: input "${t.name}" has shape [${t.shape.join(',')}] but the model takes [${spec.shape.join(',')}] (-1 is any size)`,
      );
  }
  for (const t of inputs) {
    if (!specs.some((s) => s.name === t.name))
      throw new BenchArgumentError(
        `${where}: "${t.name}" is not an input of the model (inputs: ${specs.map((s) => s.name).join(', ')})`,
      );
  }
}
