import type { Logger, Tensor, TensorSpec } from '../../core/index.js';
import type { ModelConfig } from '../../spec/index.js';

/** Everything a backend needs to load one version of a model. */
export interface ModelVersionSpec {
  readonly name: string;
  readonly version: number;
  /** `<repo>/<model>` */
  readonly modelDir: string;
  /** `<repo>/<model>/<version>` */
  readonly versionDir: string;
  readonly config: ModelConfig;
  /** Class names from the config's `labels` file, if any. */
  readonly labels?: readonly string[];
}

/** Lets a model (a js pipeline) call other models of the same server. */
export type InferCall = (
  model: string,
  version: string | undefined,
  inputs: readonly Tensor[],
  outputs: readonly string[] | undefined,
) => Promise<readonly Tensor[]>;

export interface BackendDeps {
  readonly logger: Logger;
  readonly infer: InferCall;
}

/** Timings of one execution, in milliseconds. */
export interface ExecuteTiming {
  /** Waiting for a free instance. */
  readonly queueMs: number;
  /** Inside the instance, from receiving the inputs to having the outputs. */
  readonly computeMs: number;
}

export interface ExecuteResult {
  readonly outputs: readonly Tensor[];
  readonly timing: ExecuteTiming;
  /**
   * Set when the request ran inside a batch: how many requests shared the execution, and whether
   * this one is the batch's first (so the execution is counted once).
   */
  readonly execution?: { readonly requests: number; readonly leader: boolean };
}

/** A loaded model version, ready to execute. */
export interface LoadedModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /**
   * Runs the model. Inputs have been validated against `inputs`; their buffers may be handed to
   * another thread, so callers must not touch them afterwards. `outputs` lists the names to return.
   */
  execute(inputs: readonly Tensor[], outputs: readonly string[]): Promise<ExecuteResult>;
  /** Frees the model; called once, after every execution has finished. */
  unload(): Promise<void>;
  /** Where it runs: on the server's thread, or in this many worker threads. */
  readonly placement?: { readonly kind: 'inline' | 'worker'; readonly instances: number };
}

/** Something that runs models of one kind (`onnx`, `js`). */
export interface Backend {
  readonly kind: ModelConfig['backend'];
  load(spec: ModelVersionSpec, deps: BackendDeps): Promise<LoadedModel>;
}
