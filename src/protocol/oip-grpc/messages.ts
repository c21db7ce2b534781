/**
 * The Open Inference Protocol v2 gRPC messages (proto/grpc_service.proto) as the plain objects
 * @grpc/proto-loader gives and takes with `PROTO_LOADER_OPTIONS`: snake_case names, 64-bit
 * integers as decimal strings, bytes as Buffers, maps as objects, oneofs named in
 * `parameter_choice`.
 *
 * Decoding fills every field with its default, but fields are optional here so the codec also
 * accepts hand-built messages (tests, other loader options) and so encoders may leave them out.
 */

/** A 64-bit integer: a decimal string when decoded; a number or string when encoded. */
export type Int64Value = string | number;

/** One value of a parameter map (`map<string, InferParameter>`). */
export interface InferParameterMessage {
  readonly parameter_choice?: string;
  readonly bool_param?: boolean;
  readonly int64_param?: Int64Value;
  readonly string_param?: string;
  readonly double_param?: number;
  readonly uint64_param?: Int64Value;
}

/** A parameter map: name -> value. */
export type ParameterMapMessage = Readonly<Record<string, InferParameterMessage>>;

/** Typed tensor contents: only the field of the tensor's datatype holds elements. */
export interface InferTensorContentsMessage {
  readonly bool_contents?: readonly boolean[];
  readonly int_contents?: readonly number[];
  readonly int64_contents?: readonly Int64Value[];
  readonly uint_contents?: readonly number[];
  readonly uint64_contents?: readonly Int64Value[];
  readonly fp32_contents?: readonly number[];
  readonly fp64_contents?: readonly number[];
  readonly bytes_contents?: readonly Uint8Array[];
}

/** The name of one field of `InferTensorContents`. */
export type ContentsField = keyof InferTensorContentsMessage;

/** An input tensor of a request or an output tensor of a response (same fields 1–5). */
export interface TensorMessage {
  readonly name?: string;
  readonly datatype?: string;
  readonly shape?: readonly Int64Value[];
  readonly parameters?: ParameterMapMessage;
  /** null or absent when the message carries raw contents. */
  readonly contents?: InferTensorContentsMessage | null;
}

/** `ModelInferRequest.InferRequestedOutputTensor`. */
export interface RequestedOutputMessage {
  readonly name?: string;
  readonly parameters?: ParameterMapMessage;
}

/** `ModelInferRequest`. */
export interface ModelInferRequestMessage {
  readonly model_name?: string;
  /** Empty: the newest ready version. */
  readonly model_version?: string;
  readonly id?: string;
  readonly parameters?: ParameterMapMessage;
  readonly inputs?: readonly TensorMessage[];
  readonly outputs?: readonly RequestedOutputMessage[];
  /** One entry per input when used; then no input has `contents`. */
  readonly raw_input_contents?: readonly Uint8Array[];
}

/** `ModelInferResponse`. */
export interface ModelInferResponseMessage {
  readonly model_name?: string;
  readonly model_version?: string;
  readonly id?: string;
  readonly parameters?: ParameterMapMessage;
  readonly outputs?: readonly TensorMessage[];
  /** One entry per output when used; then no output has `contents`. */
  readonly raw_output_contents?: readonly Uint8Array[];
}

/** `ModelReadyRequest` and `ModelMetadataRequest` (name = 1, version = 2). */
export interface ModelRefMessage {
  readonly name?: string;
  readonly version?: string;
}

/** `ModelMetadataResponse.TensorMetadata`. */
export interface TensorMetadataMessage {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly Int64Value[];
}

/** `ModelMetadataResponse`. */
export interface ModelMetadataResponseMessage {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadataMessage[];
  readonly outputs: readonly TensorMetadataMessage[];
}

/** `ServerMetadataResponse`. */
export interface ServerMetadataResponseMessage {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

/** `RepositoryIndexRequest`. */
export interface RepositoryIndexRequestMessage {
  readonly repository_name?: string;
  readonly ready?: boolean;
}

/** `RepositoryIndexResponse`. */
export interface RepositoryIndexResponseMessage {
  readonly models: readonly {
    readonly name: string;
    readonly version: string;
    readonly state: string;
    readonly reason: string;
  }[];
}

/**
 * `RepositoryModelLoadRequest` and `RepositoryModelUnloadRequest` (parameters are not read).
 * Triton numbers them repository_name = 1, model_name = 2; KServe's python proto has
 * model_name = 1, so its model name arrives in `repository_name`.
 */
export interface RepositoryModelRequestMessage {
  readonly repository_name?: string;
  readonly model_name?: string;
}

/** The model a repository request names, from Triton's field 2 or else KServe's field 1. */
export function repositoryModelName(req: RepositoryModelRequestMessage): string {
  return req.model_name || req.repository_name || '';
}

/** `RepositoryModelLoadResponse` / `RepositoryModelUnloadResponse`: KServe's fields (Triton's are empty). */
export interface RepositoryModelLoadResponseMessage {
  readonly model_name: string;
  readonly isLoaded: boolean;
}

export interface RepositoryModelUnloadResponseMessage {
  readonly model_name: string;
  readonly isUnloaded: boolean;
}
