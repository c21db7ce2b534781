import { type InferRequest, InvalidRequestError, type Tensor, type TensorSpec } from '../core/index.js';
import type { InputHead } from '../protocol/oip-rest/index.js';

const fmtShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Whether a model's shape (with -1 for any size) accepts a concrete shape. */
export function shapeAccepts(model: readonly number[], actual: readonly number[]): boolean {
  if (model.length !== actual.length) return false;
  for (let i = 0; i < model.length; i++) if (model[i] !== -1 && model[i] !== actual[i]) return false;
  return true;
}

/** What the checks read of a model. */
export interface ModelInputs {
  readonly name: string;
  readonly inputs: readonly TensorSpec[];
  /** The model's max_batch_size; 0 when it does not batch. */
  readonly maxBatchSize: number;
}

/**
 * Checks a request's inputs against what the model takes, naming the input and the rule it
 * broke: no input twice, every input known and present, datatypes equal, shapes accepted, one
 * batch dimension within max_batch_size. It reads names, datatypes and shapes only, so front ends
 * run it before decoding any tensor data (a shape accepted here bounds the elements they read);
 * `validateRequest` runs it again on the decoded request. Returns the batch size (1 when the model
 * does not batch).
 */
export function checkInputs(inputs: readonly InputHead[], model: ModelInputs): number {
  const given = new Map<string, InputHead>();
  for (const t of inputs) {
    if (given.has(t.name))
      throw new InvalidRequestError('FLT_INVALID_FIELD', `inputs: "${t.name}" is given twice`);
    if (!model.inputs.some((s) => s.name === t.name)) {
      throw new InvalidRequestError(
        'FLT_UNKNOWN_INPUT',
        `input "${t.name}" is not an input of model "${model.name}" (inputs: ${model.inputs.map((s) => s.name).join(', ')})`,
      );
    }
    given.set(t.name, t);
  }
  let batchSize = 1;
  for (const spec of model.inputs) {
    const t = given.get(spec.name);
    if (!t) {
      throw new InvalidRequestError(
        'FLT_MISSING_INPUT',
        `input "${spec.name}" is missing (model "${model.name}" takes ${spec.datatype} ${fmtShape(spec.shape)})`,
      );
    }
    if (t.datatype !== spec.datatype) {
      throw new InvalidRequestError(
        'FLT_DATATYPE_MISMATCH',
        `input "${spec.name}": datatype ${t.datatype} but model "${model.name}" takes ${spec.datatype}`,
      );
    }
    if (!shapeAccepts(spec.shape, t.shape)) {
      throw new InvalidRequestError(
        'FLT_SHAPE_MISMATCH',
        `input "${spec.name}": shape ${fmtShape(t.shape)} but model "${model.name}" takes ${fmtShape(spec.shape)}`,
      );
    }
    if (model.maxBatchSize > 0) {
      const batch = t.shape[0] ?? 0;
      // Batched requests are joined along dimension 0, so every input must agree on it.
      if (spec !== model.inputs[0] && batch !== batchSize) {
        throw new InvalidRequestError(
          'FLT_SHAPE_MISMATCH',
          `input "${spec.name}": batch dimension ${batch} differs from input "${model.inputs[0]!.name}" (${batchSize})`,
        );
      }
      if (batch > model.maxBatchSize) {
        throw new InvalidRequestError(
          'FLT_BATCH_TOO_LARGE',
          `input "${spec.name}": batch dimension ${batch} exceeds max_batch_size ${model.maxBatchSize} of model "${model.name}"`,
        );
      }
      batchSize = batch;
    }
  }
  return batchSize;
}

/** A request checked against a model: inputs in the model's order and the output names to compute. */
export interface ValidatedRequest {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[];
  /** Items in the request: its batch dimension when the model batches, else 1. */
  readonly batchSize: number;
}

/**
 * Checks a decoded request against what the model takes: the inputs as `checkInputs` does (the
 * same rules: front ends ran them before decoding, this covers the version actually leased and
 * callers without a front end, such as pipelines), then the requested outputs.
 */
export function validateRequest(
  req: InferRequest,
  model: {
    readonly name: string;
    readonly inputs: readonly TensorSpec[];
    readonly outputs: readonly TensorSpec[];
  },
  maxBatchSize: number,
): ValidatedRequest {
  const batchSize = checkInputs(req.inputs, { name: model.name, inputs: model.inputs, maxBatchSize });
  const given = new Map(req.inputs.map((t) => [t.name, t]));
  const inputs = model.inputs.map((spec) => given.get(spec.name)!);
  return { inputs, outputs: checkOutputs(req.outputs ?? [], model), batchSize };
}

/**
 * The output names to compute: those requested, each one the model's (refused otherwise), or every
 * output of the model when none is requested. Front ends run it before decoding tensor data too.
 */
export function checkOutputs(
  requested: readonly { readonly name: string }[],
  model: { readonly name: string; readonly outputs: readonly TensorSpec[] },
): string[] {
  if (requested.length === 0) return model.outputs.map((s) => s.name);
  return requested.map((o) => {
    if (!model.outputs.some((s) => s.name === o.name)) {
      throw new InvalidRequestError(
        'FLT_UNKNOWN_OUTPUT',
        `output "${o.name}" is not an output of model "${model.name}" (outputs: ${model.outputs.map((s) => s.name).join(', ')})`,
      );
    }
    return o.name;
  });
}
