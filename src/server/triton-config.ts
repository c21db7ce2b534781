import type { Datatype, TensorSpec } from '../core/index.js';
import type { ServedConfig } from './repository/model-manager.js';

/** Triton's `DataType` enum names (model_config.proto); BYTES is Triton's TYPE_STRING. */
const TRITON_TYPE: Readonly<Record<Datatype, string>> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

const PLATFORM = { onnx: 'onnxruntime_onnx', js: 'js' } as const;
const BACKEND = { onnx: 'onnxruntime', js: 'js' } as const;

/** One `ModelInput` / `ModelOutput` of Triton's config. */
export interface TritonTensorConfig {
  readonly name: string;
  readonly data_type: string;
  readonly dims: readonly number[];
  readonly label_filename?: string;
}

/**
 * Triton's `ModelConfig`, only the fields Flotilla's config.yaml says something true about (the
 * same object answers REST as JSON and gRPC through proto/grpc_service.proto).
 */
export interface TritonModelConfig {
  readonly name: string;
  readonly platform: string;
  readonly backend: string;
  readonly version_policy: Record<string, unknown>;
  readonly max_batch_size: number;
  readonly input: readonly TritonTensorConfig[];
  readonly output: readonly TritonTensorConfig[];
  readonly dynamic_batching?: {
    readonly preferred_batch_size: readonly number[];
    readonly max_queue_delay_microseconds: number;
    readonly default_queue_policy: {
      readonly timeout_action: 'REJECT';
      readonly default_timeout_microseconds: number;
      readonly allow_timeout_override: false;
      readonly max_queue_size: number;
    };
  };
  readonly instance_group: readonly { name: string; kind: 'KIND_CPU'; count: number }[];
  readonly default_model_filename: string;
}

/**
 * Triton's dims: without the batch dimension when the model batches (max_batch_size > 0), as
 * Triton's config.pbtxt writes them; Flotilla's shapes carry it as a leading -1.
 */
function dims(t: TensorSpec, batching: boolean): number[] {
  const shape = [...t.shape];
  return batching && shape[0] === -1 ? shape.slice(1) : shape;
}

/** Triton's view of a served version's config. Milliseconds become Triton's microseconds. */
export function tritonModelConfig(served: ServedConfig): TritonModelConfig {
  const c = served.config;
  const batching = c.maxBatchSize > 0;
  const tensor = (t: TensorSpec): TritonTensorConfig => ({
    name: t.name,
    data_type: TRITON_TYPE[t.datatype],
    dims: dims(t, batching),
  });
  const policy = c.versionPolicy;
  const db = c.dynamicBatching;
  return {
    name: served.name,
    platform: PLATFORM[c.backend],
    backend: BACKEND[c.backend],
    version_policy:
      policy.kind === 'all'
        ? { all: {} }
        : policy.kind === 'latest'
          ? { latest: { num_versions: policy.count } }
          : { specific: { versions: [...policy.versions] } },
    max_batch_size: c.maxBatchSize,
    input: served.inputs.map(tensor),
    // Flotilla's labels file belongs to the model, not one output: named on every output, as a
    // one-output classifier's config.pbtxt would.
    output: served.outputs.map((t) => ({
      ...tensor(t),
      ...(c.labels !== undefined ? { label_filename: c.labels } : {}),
    })),
    ...(db
      ? {
          dynamic_batching: {
            preferred_batch_size: [...db.preferredBatchSizes],
            max_queue_delay_microseconds: Math.round(db.maxQueueDelayMs * 1000),
            default_queue_policy: {
              timeout_action: 'REJECT' as const,
              default_timeout_microseconds: Math.round(db.queueTimeoutMs * 1000),
              allow_timeout_override: false as const,
              max_queue_size: db.maxQueueSize,
            },
          },
        }
      : {}),
    instance_group: [{ name: served.name, kind: 'KIND_CPU' as const, count: served.instances }],
    default_model_filename: c.modelFile,
  };
}
