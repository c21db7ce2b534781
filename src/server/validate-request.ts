import { type InferRequest, InvalidRequestError, type Tensor, type TensorSpec } from '../core/index.js';

const fmtShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Whether a model's shape (with -1 for any size) accepts a concrete shape. */
export function shapeAccepts(model: readonly number[], actual: readonly number[]): boolean {
  if (model.length !== actual.length) return false;
  for (let i = 0; i < model.length; i++) if (model[i] !== -1 && model[i] !== actual[i]) return false;
  return true;
}

/** A request checked against a model: inputs in the model's order and the output names to compute. */
export interface ValidatedRequest {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[];
  /** Items in the request: its batch dimension when the model batches, else 1. */
  readonly batchSize: number;
}

/**
 * Checks a request against what the model takes, naming the input and the rule it broke:
 * every input present and known, datatypes equal, shapes accepted, batch within max_batch_size,
 * requested outputs known.
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
  const given = new Map<string, Tensor>();
  for (const t of req.inputs) {
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
  const inputs = model.inputs.map((spec) => {
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
    if (maxBatchSize > 0) {
      const batch = t.shape[0] ?? 0;
      // Batched requests are joined along dimension 0, so every input must agree on it.
      if (spec !== model.inputs[0] && batch !== batchSize) {
        throw new InvalidRequestError(
          'FLT_SHAPE_MISMATCH',
          `input "${spec.name}": batch dimension ${batch} differs from input "${model.inputs[0]!.name}" (${batchSize})`,
        );
      }
      if (batch > maxBatchSize) {
        throw new InvalidRequestError(
          'FLT_BATCH_TOO_LARGE',
          `input "${spec.name}": batch dimension ${batch} exceeds max_batch_size ${maxBatchSize} of model "${model.name}"`,
        );
      }
      batchSize = batch;
    }
    return t;
  });
  let outputs: string[];
  if (req.outputs && req.outputs.length > 0) {
    outputs = req.outputs.map((o) => {
      if (!model.outputs.some((s) => s.name === o.name)) {
        throw new InvalidRequestError(
          'FLT_UNKNOWN_OUTPUT',
          `output "${o.name}" is not an output of model "${model.name}" (outputs: ${model.outputs.map((s) => s.name).join(', ')})`,
        );
      }
      return o.name;
    });
  } else {
    outputs = model.outputs.map((s) => s.name);
  }
  return { inputs, outputs, batchSize };
}
