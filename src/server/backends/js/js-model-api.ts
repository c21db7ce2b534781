import type { Datatype, Tensor, TensorData } from '../../../core/index.js';

/**
 * The surface a `js` backend module sees. A module in a version folder (default `model.js`)
 * exports `infer(inputs, ctx)` and optionally `load(ctx)`; see docs/models.md.
 */

/** A tensor as a module may return it: typed arrays, or plain arrays (strings for BYTES). */
export interface TensorLike {
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData | readonly (number | string | boolean)[];
}

export interface InferOptions {
  /** A version of the called model; the newest ready one when omitted. */
  readonly version?: string;
  /** Outputs to compute; all when omitted. */
  readonly outputs?: readonly string[];
}

/** What a module's `load` and `infer` receive. */
export interface JsModelContext {
  readonly model: string;
  readonly version: number;
  readonly modelDir: string;
  readonly versionDir: string;
  /** The config's `parameters`. */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** The config's `labels` file, one entry per line. */
  readonly labels: readonly string[] | undefined;
  /**
   * A file path as configs name them: `npm:<package>/<path>` (a file in an installed package),
   * absolute, or relative to the version folder. Throws when an npm package is not installed.
   */
  resolve(file: string): string;
  /** Runs another model of the same server (pre/post-processing, pipelines, ensembles). */
  infer(
    model: string,
    inputs: Readonly<Record<string, TensorLike>>,
    options?: InferOptions,
  ): Promise<Record<string, Tensor>>;
}

/** The module contract. */
export interface JsModelModule {
  load?(ctx: JsModelContext): void | Promise<void>;
  /**
   * Computes the outputs. An error whose `code` is `'FLT_INVALID_FIELD'` rejects the request's
   * data (HTTP 400, e.g. an image that does not decode); any other error is a 500.
   */
  infer(
    inputs: Readonly<Record<string, Tensor>>,
    ctx: JsModelContext,
  ): Record<string, TensorLike> | Promise<Record<string, TensorLike>>;
}
