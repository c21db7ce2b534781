import {
  type InferRequest,
  InvalidRequestError,
  type Tensor,
  type TensorData,
  type TensorSpec,
} from '../../core/index.js';
import { parseJsonBody } from '../oip-rest/index.js';
import { concatData, denseFromJson, isNamedObject } from './dense-json.js';

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

function checkSignatureName(value: unknown, model: string): void {
  if (value === undefined || value === '' || value === DEFAULT_SIGNATURE) return;
  if (typeof value !== 'string')
    throw bad('signature_name', `must be a string, got ${JSON.stringify(value)}`);
  throw bad(
    'signature_name',
    `${JSON.stringify(value)} is not a signature of model "${model}" (it has only "${DEFAULT_SIGNATURE}")`,
  );
}

/** Row format: one list element per batch row, joined along a new first dimension. */
function rowInputs(instances: unknown, target: PredictTarget, signature: ModelSignature): Tensor[] {
  if (!Array.isArray(instances) || instances.length === 0) {
    throw bad(
      'instances',
      `must be a non-empty list (one element per row), got ${JSON.stringify(instances)}`,
    );
  }
  const named = isNamedObject(instances[0]);
  const only = signature.inputs.length === 1 ? signature.inputs[0] : undefined;
  if (!named && !only) {
    throw bad(
      'instances',
      `a list of plain values needs a model with one input; model "${target.model}" has ${signature.inputs.length} (${inputNames(signature)}): send a list of objects {input_name: value}`,
    );
  }
  const rows = new Map<string, { spec: TensorSpec; shape: readonly number[]; data: TensorData[] }>();
  const add = (spec: TensorSpec, value: unknown, field: string): void => {
    const dense = denseFromJson(value, spec.datatype, field);
    const seen = rows.get(spec.name);
    if (!seen) {
      rows.set(spec.name, { spec, shape: dense.shape, data: [dense.data] });
      return;
    }
    if (seen.shape.join() !== dense.shape.join()) {
      throw bad(
        field,
        `shape [${dense.shape.join(',')}] differs from instances[0]'s [${seen.shape.join(',')}] (every instance must have the same shape)`,
      );
    }
    seen.data.push(dense.data);
  };
  instances.forEach((instance, i) => {
    if (isNamedObject(instance) !== named) {
      throw bad(
        `instances[${i}]`,
        named
          ? 'expected an object {input_name: value} like instances[0]'
          : 'expected a value or list like instances[0], got an object',
      );
    }
    if (!named) {
      add(only!, instance, `instances[${i}]`);
      return;
    }
    const obj = instance as Record<string, unknown>;
    for (const [name, value] of Object.entries(obj)) {
      add(specOf(name, `instances[${i}]`, target, signature), value, `instances[${i}].${name}`);
    }
    // TF Serving needs every instance to name every input: rows are joined per input.
    for (const spec of signature.inputs) {
      if (!Object.hasOwn(obj, spec.name)) {
        throw new InvalidRequestError(
          'FLT_MISSING_INPUT',
          `instances[${i}]: input "${spec.name}" is missing (every instance names every input: ${inputNames(signature)})`,
        );
      }
    }
  });
  return [...rows.values()].map(
    ({ spec, shape, data }) =>
      ({
        name: spec.name,
        datatype: spec.datatype,
        shape: [instances.length, ...shape],
        data: concatData(spec.datatype, data),
      }) as Tensor,
  );
}

/** Columnar format: each value is a whole tensor, batch dimension included. */
function columnarInputs(inputs: unknown, target: PredictTarget, signature: ModelSignature): Tensor[] {
  const tensor = (spec: TensorSpec, value: unknown, field: string): Tensor => {
    const dense = denseFromJson(value, spec.datatype, field);
    return { name: spec.name, datatype: spec.datatype, shape: dense.shape, data: dense.data } as Tensor;
  };
  if (isNamedObject(inputs)) {
    return Object.entries(inputs).map(([name, value]) =>
      tensor(specOf(name, 'inputs', target, signature), value, `inputs.${name}`),
    );
  }
  const only = signature.inputs.length === 1 ? signature.inputs[0] : undefined;
  if (!only) {
    throw bad(
      'inputs',
      `a plain value or list needs a model with one input; model "${target.model}" has ${signature.inputs.length} (${inputNames(signature)}): send an object {input_name: value}`,
    );
  }
  return [tensor(only, inputs, 'inputs')];
}

/**
 * Decodes the body of `POST /v1/models/{m}[/versions/{v}]:predict`: row (`instances`) or
 * columnar (`inputs`) format, datatypes taken from the model's signature, BYTES as strings or
 * `{"b64": …}` objects. Every output is requested; the answer goes back in the same format.
 */
export function decodePredictRequest(
  body: Uint8Array,
  target: PredictTarget,
  signature: ModelSignature,
): DecodedPredict {
  const raw = parseJsonBody(body);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw bad(
      '(top level)',
      `expected a JSON object with "instances" or "inputs", got ${JSON.stringify(raw)}`,
    );
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
      ? rowInputs(obj['instances'], target, signature)
      : columnarInputs(obj['inputs'], target, signature);
  return {
    request: {
      model: target.model,
      ...(target.version !== undefined ? { version: target.version } : {}),
      inputs,
    },
    format,
  };
}
