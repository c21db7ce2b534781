import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type Datatype, parseDatatype, type TensorSpec } from '../core/index.js';
import { formatIssues } from './format-issues.js';

const datatype = z.string().transform((name, ctx): Datatype => {
  const d = parseDatatype(name);
  if (d === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'unknown datatype; allowed: BOOL, UINT8…UINT64, INT8…INT64, FP16, FP32, FP64, BYTES',
    });
    return z.NEVER;
  }
  return d;
});

const tensorSpec = z.strictObject({
  name: z.string().min(1),
  datatype,
  shape: z.array(z.int().min(-1)),
});

/** What a version label may be: a URL path segment without escapes (TF Serving's labels are words). */
const LABEL_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const versionPolicy = z.union([
  z.literal('all').transform(() => ({ kind: 'all' as const })),
  z.strictObject({ all: z.strictObject({}) }).transform(() => ({ kind: 'all' as const })),
  z.strictObject({ latest: z.int().min(1) }).transform((p) => ({ kind: 'latest' as const, count: p.latest })),
  z
    .strictObject({ specific: z.array(z.int().min(1)).min(1) })
    .transform((p) => ({ kind: 'specific' as const, versions: p.specific })),
]);

/** Which versions on disk a model serves (TF Serving's `model_version_policy`). */
export type VersionPolicy = z.output<typeof versionPolicy>;

/** The defaults of a model config, in one place. */
export const MODEL_CONFIG_DEFAULTS = Object.freeze({
  backend: 'onnx' as const,
  max_batch_size: 0,
  threads: 1,
  version_policy: { kind: 'latest', count: 1 } as VersionPolicy,
  /** One instance per core: measured, two single-threaded workers beat one two-threaded session. */
  instances: (): number => availableParallelism(),
});

const dynamicBatching = z.strictObject({
  /** Batch sizes to aim for; default: aim for max_batch_size. */
  preferred_batch_sizes: z.array(z.int().min(1)).default([]),
  /** How long the oldest request may wait for a fuller batch, in microseconds. */
  max_queue_delay_us: z.int().min(0).max(10_000_000).default(0),
  /** Requests allowed to wait; more get 503 (0 = no limit). */
  max_queue_size: z.int().min(0).default(0),
  /** How long a request may wait for an instance before it gets 503, in microseconds (0 = no limit). */
  queue_timeout_us: z.int().min(0).default(0),
});

const modelConfigSchema = z.strictObject({
  backend: z.enum(['onnx', 'js']).default(MODEL_CONFIG_DEFAULTS.backend),
  /** File in each version folder; default model.onnx (onnx) or model.js (js). */
  model_file: z.string().min(1).optional(),
  inputs: z.array(tensorSpec).min(1).optional(),
  outputs: z.array(tensorSpec).min(1).optional(),
  max_batch_size: z.int().min(0).default(MODEL_CONFIG_DEFAULTS.max_batch_size),
  instances: z.int().min(1).max(64).optional(),
  /** Where instances run: worker threads, the server's own thread, or measured at load. */
  instance_kind: z.enum(['auto', 'worker', 'inline']).default('auto'),
  threads: z.int().min(1).max(64).default(MODEL_CONFIG_DEFAULTS.threads),
  version_policy: versionPolicy.default(MODEL_CONFIG_DEFAULTS.version_policy),
  labels: z.string().min(1).optional(),
  /**
   * TF Serving's `version_labels` (model_config): names for versions, e.g. `{stable: 1, canary: 2}`,
   * for `/v1/models/{m}/labels/{label}` and gRPC `model_spec.version_label`.
   */
  version_labels: z.record(z.string(), z.int().min(1)).default({}),
  /** On by default when max_batch_size > 0; `false` turns it off. */
  dynamic_batching: z.union([z.literal(false), dynamicBatching]).optional(),
  /**
   * A shape each input with free (-1) dimensions typically takes, by input name: what
   * `flotilla bench` sends as random payloads (ocr_cls's `x` is a text line, [1, 3, 48, 192]).
   */
  typical_shapes: z.record(z.string().min(1), z.array(z.int().min(1)).min(1)).optional(),
  /** Free-form settings handed to a js backend's module. */
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});

/** A model's config.yaml after validation, with defaults applied. */
export interface ModelConfig {
  readonly backend: 'onnx' | 'js';
  readonly modelFile: string;
  readonly inputs?: readonly TensorSpec[];
  readonly outputs?: readonly TensorSpec[];
  readonly maxBatchSize: number;
  readonly instances: number;
  /**
   * `worker`: each instance in a worker thread; `inline`: one instance on the server's thread
   * (onnx only); `auto`: onnx models whose batch-1 run is measured at load as faster than a thread
   * hop run inline, others in workers (only when `instances` is not set).
   */
  readonly instanceKind: InstanceKind;
  readonly threads: number;
  readonly versionPolicy: VersionPolicy;
  readonly labels?: string;
  /** Version labels (`version_labels`): label -> version number; empty when none. */
  readonly versionLabels: Readonly<Record<string, number>>;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** `typical_shapes`: a concrete shape per input name, for inputs with free dimensions. */
  readonly typicalShapes?: Readonly<Record<string, readonly number[]>>;
  /** Dynamic batching settings, or undefined when the model does not batch. */
  readonly dynamicBatching?: DynamicBatchingConfig;
}

export type InstanceKind = 'auto' | 'worker' | 'inline';

/** Triton's dynamic batcher settings, in milliseconds. */
export interface DynamicBatchingConfig {
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  readonly queueTimeoutMs: number;
}

/** Validates a parsed config object; `file` names it in errors. */
export function parseModelConfig(raw: unknown, file: string): ModelConfig {
  const result = modelConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(file, formatIssues(result.error, raw));
  const c = result.data;
  if (c.backend === 'js' && (c.inputs === undefined || c.outputs === undefined)) {
    throw new ConfigError(
      file,
      `${c.inputs === undefined ? 'inputs' : 'outputs'}: required when backend is js`,
    );
  }
  if (c.instance_kind === 'inline' && c.backend !== 'onnx') {
    throw new ConfigError(file, 'instance_kind: inline runs onnx models only; js modules run in workers');
  }
  if (c.instance_kind === 'inline' && c.instances !== undefined && c.instances > 1) {
    throw new ConfigError(
      file,
      `instances: ${c.instances} with instance_kind: inline; an inline model has one instance (the server's thread)`,
    );
  }
  const badLabel = Object.keys(c.version_labels).find((l) => !LABEL_PATTERN.test(l));
  if (badLabel !== undefined) {
    throw new ConfigError(
      file,
      `version_labels: ${JSON.stringify(badLabel)}: a label is 1 to 64 letters, digits, "_", "-" or "." (it is a URL path segment)`,
    );
  }
  const instanceKind: InstanceKind =
    c.instance_kind === 'auto' && (c.backend !== 'onnx' || c.instances !== undefined)
      ? 'worker'
      : c.instance_kind;
  const batching =
    c.dynamic_batching === false ? undefined : (c.dynamic_batching ?? dynamicBatching.parse({}));
  if (batching && c.max_batch_size > 0) {
    const over = batching.preferred_batch_sizes.find((n) => n > c.max_batch_size);
    if (over !== undefined) {
      throw new ConfigError(
        file,
        `dynamic_batching.preferred_batch_sizes: ${over} exceeds max_batch_size ${c.max_batch_size}`,
      );
    }
  }
  return {
    backend: c.backend,
    modelFile: c.model_file ?? (c.backend === 'onnx' ? 'model.onnx' : 'model.js'),
    ...(c.inputs ? { inputs: c.inputs } : {}),
    ...(c.outputs ? { outputs: c.outputs } : {}),
    maxBatchSize: c.max_batch_size,
    instances: instanceKind === 'inline' ? 1 : (c.instances ?? MODEL_CONFIG_DEFAULTS.instances()),
    instanceKind,
    threads: c.threads,
    versionPolicy: c.version_policy,
    ...(c.labels ? { labels: c.labels } : {}),
    versionLabels: c.version_labels,
    parameters: c.parameters,
    ...(c.typical_shapes ? { typicalShapes: c.typical_shapes } : {}),
    ...(batching && c.max_batch_size > 0
      ? {
          dynamicBatching: {
            preferredBatchSizes: batching.preferred_batch_sizes,
            maxQueueDelayMs: batching.max_queue_delay_us / 1000,
            maxQueueSize: batching.max_queue_size,
            queueTimeoutMs: batching.queue_timeout_us / 1000,
          },
        }
      : {}),
  };
}

/** Parses the YAML text of a config.yaml; `file` names it in errors. */
export function parseModelConfigYaml(text: string, file: string): ModelConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, `not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return parseModelConfig(raw, file);
}
