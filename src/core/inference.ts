import type { Datatype } from './datatypes.js';
import type { Tensor } from './tensor.js';

/** Request-level or tensor-level parameters, as the Open Inference Protocol defines them. */
export type Parameters = Readonly<Record<string, string | number | boolean>>;

/** An output the caller asked for; parameters carry protocol hints such as Triton's `binary_data`. */
export interface RequestedOutput {
  readonly name: string;
  readonly parameters?: Parameters;
}

/**
 * One inference, independent of the protocol it arrived with. Every front end builds this and
 * reads `InferResponse` back; nothing below the front ends knows the wire format.
 */
export interface InferRequest {
  readonly model: string;
  /** Undefined means "the newest ready version". */
  readonly version?: string;
  readonly id?: string;
  readonly inputs: readonly Tensor[];
  /** Undefined means every output of the model. */
  readonly outputs?: readonly RequestedOutput[];
  readonly parameters?: Parameters;
}

export interface InferResponse {
  readonly model: string;
  readonly version: string;
  readonly id?: string;
  readonly outputs: readonly Tensor[];
}

/** What a model takes or gives: a name, a datatype and a shape with -1 for any size. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}
