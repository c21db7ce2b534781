import {
  type InferRequest,
  InvalidRequestError,
  previewJson,
  type Tensor,
  type TensorData,
  type TensorSpec,
} from '../../core/index.js';
import type { CheckInputs } from '../oip-rest/index.js';
import { concatData, denseData, denseShape, isNamedObject } from './dense-json.js';
import { parseTfJsonBody } from './non-finite-json.js';

/** Which TF Serving request format a predict call used; the answer uses the same one. */
export type PredictFormat = 'row' | 'columnar';

/** The only signature Flotilla models have: TF Serving's default one. */
export const DEFAULT_SIGNATURE = 'serving_default';

/** What a TF Serving codec needs to know of a model: TF requests carry no datatypes. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** The model (and version) a request goes to, from its path. */
export interface PredictTarget {
  readonly model: string;
  readonly version?: string;
}

/** A decoded predict call: the request to run and the format to answer in. */
export interface DecodedPredict {
  readonly request: InferRequest;
  readonly format: PredictFormat;
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

function inputNames(signature: ModelSignature): string {
  return signature.inputs.map((s) => s.name).join(', ');
}

/** The spec of a named input, or a 400 naming the field and the inputs the model has. */
function specOf(name: string, field: string, target: PredictTarget, signature: ModelSignature): TensorSpec {
  const spec = signature.inputs.find((s) => s.name === name);
  if (spec) return spec;
  throw new InvalidRequestError(
    'FLT_UNKNOWN_INPUT',
    `${field}: input "${name}" is not an input of model "${target.model}" (inputs: ${inputNames(signature)})`,
  );
}

/**
 * Refuses a signature other than the default one (FLT_UNKNOWN_SIGNATURE: 400 over REST,
 * FAILED_PRECONDITION over gRPC, as TF Serving answers); '' and undefined mean the default.
 */
export function checkSignatureName(value: unknown, model: string): void {
  if (value === undefined || value === '' || value === DEFAULT_SIGNATURE) return;
  if (typeof value !== 'string') throw bad('signature_name', `must be a string, got ${previewJson(value)}`);
  throw new InvalidRequestError(
    'FLT_UNKNOWN_SIGNATURE',
    `signature_name: ${previewJson(value)} is not a signature of model "${model}" (it has only "${DEFAULT_SIGNATURE}")`,
  );
}

/** What bounds the nesting of a value for `spec`, for the error that refuses deeper lists. */
const rankOf = (spec: TensorSpec, target: PredictTarget): string =>
  `the rank of input "${spec.name}" of model "${target.model}"`;

/**
 * Row format: one list element per batch row, joined along a new first dimension. The batch (the
 * row count) and instances[0]'s shape are checked against the model before any row is read:
 * 4M rows sent to mnist are refused at once, not after 4M reads.
 */
function rowInputs(
  instances: unknown,
  target: PredictTarget,
  signature: ModelSignature,
  check: CheckInputs | undefined,
): Tensor[] {
  if (!Array.isArray(instances) || instances.length === 0) {
    throw bad('instances', `must be a non-empty list (one element per row), got ${previewJson(instances)}`);
  }
  const named = isNamedObject(instances[0]);
  const only = signature.inputs.length === 1 ? signature.inputs[0] : undefined;
  if (!named && !only) {
    throw bad(
      'instances',
      `a list of plain values needs a model with one input; model "${target.model}" has ${signature.inputs.length} (${inputNames(signature)}): send a list of objects {input_name: value}`,
    );
  }
  /** One instance's values by input, with the field naming each. */
  const valuesOf = (instance: unknown, i: number): [TensorSpec, unknown, string][] => {
    if (isNamedObject(instance) !== named) {
      throw bad(
        `instances[${i}]`,
        named
          ? 'expected an object {input_name: value} like instances[0]'
          : 'expected a value or list like instances[0], got an object',
      );
    }
    if (!named) return [[only!, instance, `instances[${i}]`]];
    const obj = instance as Record<string, unknown>;
    const values = Object.keys(obj).map((name): [TensorSpec, unknown, string] => [
      specOf(name, `instances[${i}]`, target, signature),
      obj[name],
      `instances[${i}].${name}`,
    ]);
    // TF Serving needs every instance to name every input: rows are joined per input.
    for (const spec of signature.inputs) {
      if (!Object.hasOwn(obj, spec.name)) {
        throw new InvalidRequestError(
          'FLT_MISSING_INPUT',
          `instances[${i}]: input "${spec.name}" is missing (every instance names every input: ${inputNames(signature)})`,
        );
      }
    }
    return values;
  };
  const columns = new Map<string, { spec: TensorSpec; shape: readonly number[]; data: TensorData[] }>();
  for (const [spec, value, field] of valuesOf(instances[0], 0)) {
    columns.set(spec.name, {
      spec,
      shape: denseShape(value, spec.shape.length, field, rankOf(spec, target)),
      data: [],
    });
  }
  check?.(
    [...columns.values()].map(({ spec, shape }) => ({
      name: spec.name,
      datatype: spec.datatype,
      shape: [instances.length, ...shape],
    })),
  );
  instances.forEach((instance, i) => {
    for (const [spec, value, field] of valuesOf(instance, i)) {
      const column = columns.get(spec.name)!;
      const shape = denseShape(value, spec.shape.length, field, rankOf(spec, target));
      if (shape.join() !== column.shape.join()) {
        throw bad(
          field,
          `shape [${shape.join(',')}] differs from instances[0]'s [${column.shape.join(',')}] (every instance must have the same shape)`,
        );
      }
      column.data.push(denseData(value, shape, spec.datatype, field));
    }
  });
  return [...columns.values()].map(
    ({ spec, shape, data }) =>
      ({
        name: spec.name,
        datatype: spec.datatype,
        shape: [instances.length, ...shape],
        data: concatData(spec.datatype, data),
      }) as Tensor,
  );
}

/**
 * Columnar format: each value is a whole tensor, batch dimension included; every value's shape is
 * checked against the model before any is read.
 */
function columnarInputs(
  inputs: unknown,
  target: PredictTarget,
  signature: ModelSignature,
  check: CheckInputs | undefined,
): Tensor[] {
  let values: [TensorSpec, unknown, string][];
  if (isNamedObject(inputs)) {
    values = Object.keys(inputs).map((name) => [
      specOf(name, 'inputs', target, signature),
      inputs[name],
      `inputs.${name}`,
    ]);
  } else {
    const only = signature.inputs.length === 1 ? signature.inputs[0] : undefined;
    if (!only) {
      throw bad(
        'inputs',
        `a plain value or list needs a model with one input; model "${target.model}" has ${signature.inputs.length} (${inputNames(signature)}): send an object {input_name: value}`,
      );
    }
    values = [[only, inputs, 'inputs']];
  }
  const shapes = values.map(([spec, value, field]) =>
    denseShape(value, spec.shape.length, field, rankOf(spec, target)),
  );
  check?.(values.map(([spec], i) => ({ name: spec.name, datatype: spec.datatype, shape: shapes[i]! })));
  return values.map(
    ([spec, value, field], i) =>
      ({
        name: spec.name,
        datatype: spec.datatype,
        shape: shapes[i]!,
        data: denseData(value, shapes[i]!, spec.datatype, field),
      }) as Tensor,
  );
}

/**
 * Decodes the body of `POST /v1/models/{m}[/versions/{v}]:predict`: JSON with TF Serving's `NaN`,
 * `Infinity` and `-Infinity` tokens allowed (see parseTfJson); row (`instances`) or
 * columnar (`inputs`) format, datatypes taken from the model's signature, BYTES as strings or
 * `{"b64": …}` objects. Every output is requested; the answer goes back in the same format.
 * Lists nest at most as deep as the input's rank; `check` runs on the shapes the lists announce
 * before any element is read.
 */
export function decodePredictRequest(
  body: Uint8Array,
  target: PredictTarget,
  signature: ModelSignature,
  check?: CheckInputs,
): DecodedPredict {
  const raw = parseTfJsonBody(body);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw bad('(top level)', `expected a JSON object with "instances" or "inputs", got ${previewJson(raw)}`);
  }
  const obj = raw as Record<string, unknown>;
  checkSignatureName(obj['signature_name'], target.model);
  const hasInstances = Object.hasOwn(obj, 'instances');
  const hasInputs = Object.hasOwn(obj, 'inputs');
  if (hasInstances && hasInputs) {
    throw bad('instances, inputs', 'give one of them, not both (row format or columnar format)');
  }
  if (!hasInstances && !hasInputs) {
    throw bad(
      'instances, inputs',
      'one of them is required (row format "instances" or columnar format "inputs")',
    );
  }
  const format: PredictFormat = hasInstances ? 'row' : 'columnar';
  const inputs =
    format === 'row'
      ? rowInputs(obj['instances'], target, signature, check)
      : columnarInputs(obj['inputs'], target, signature, check);
  return {
    request: {
      model: target.model,
      ...(target.version !== undefined ? { version: target.version } : {}),
      inputs,
    },
    format,
  };
}
