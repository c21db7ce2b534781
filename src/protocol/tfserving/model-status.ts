import { type Datatype, NotFoundError, type TensorSpec } from '../../core/index.js';
import { DEFAULT_SIGNATURE } from './predict-request.js';

/** TensorFlow's name for each datatype (`DataType` in types.proto). */
export const TF_DTYPE: { readonly [D in Datatype]: string } = {
  BOOL: 'DT_BOOL',
  UINT8: 'DT_UINT8',
  UINT16: 'DT_UINT16',
  UINT32: 'DT_UINT32',
  UINT64: 'DT_UINT64',
  INT8: 'DT_INT8',
  INT16: 'DT_INT16',
  INT32: 'DT_INT32',
  INT64: 'DT_INT64',
  FP16: 'DT_HALF',
  FP32: 'DT_FLOAT',
  FP64: 'DT_DOUBLE',
  BYTES: 'DT_STRING',
};

/** A version's lifecycle state as the model manager reports it. */
export interface VersionState {
  readonly version: number;
  readonly state: 'loading' | 'ready' | 'unloading' | 'failed';
  readonly reason?: string | undefined;
}

/** One entry of TF Serving's `GetModelStatusResponse`. */
export interface TfModelVersionStatus {
  readonly version: string;
  readonly state: 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';
  readonly status: { readonly error_code: string; readonly error_message: string };
}

const TF_STATE = {
  loading: 'LOADING',
  ready: 'AVAILABLE',
  unloading: 'UNLOADING',
  // A version that failed to load will not serve: TF Serving reports it as END with the error.
  failed: 'END',
} as const;

/**
 * The answer of `GET /v1/models/{m}[/versions/{v}]`: every version's state, or only `version`'s
 * (a 404 when the model does not hold it).
 */
export function encodeModelStatus(
  model: string,
  versions: readonly VersionState[],
  version?: number,
): { model_version_status: TfModelVersionStatus[] } {
  const chosen = version === undefined ? versions : versions.filter((v) => v.version === version);
  if (version !== undefined && chosen.length === 0) {
    const have = versions.map((v) => v.version).sort((a, b) => a - b);
    throw new NotFoundError(
      'FLT_VERSION_NOT_FOUND',
      `model "${model}" has no version ${version} (versions: ${have.join(', ') || 'none'})`,
    );
  }
  return {
    model_version_status: chosen.map((v) => ({
      version: String(v.version),
      state: TF_STATE[v.state],
      status:
        v.state === 'failed'
          ? { error_code: 'UNKNOWN', error_message: v.reason ?? 'failed to load' }
          : { error_code: 'OK', error_message: '' },
    })),
  };
}

/** A tensor in a TF `SignatureDef`; sizes are strings because proto3 JSON writes int64 so. */
interface TfTensorInfo {
  readonly dtype: string;
  readonly tensor_shape: { readonly dim: { size: string; name: string }[]; readonly unknown_rank: false };
  readonly name: string;
}

function tensorInfos(specs: readonly TensorSpec[]): Record<string, TfTensorInfo> {
  const out: Record<string, TfTensorInfo> = {};
  for (const s of specs) {
    out[s.name] = {
      dtype: TF_DTYPE[s.datatype],
      tensor_shape: { dim: s.shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: false },
      name: s.name,
    };
  }
  return out;
}

/** What the metadata answer is built from: the model, the version that answers, its tensors. */
export interface MetadataSource {
  readonly name: string;
  readonly version: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/**
 * The answer of `GET /v1/models/{m}[/versions/{v}]/metadata`, TF Serving's
 * `GetModelMetadataResponse`: one `serving_default` predict signature with the model's tensors.
 */
export function encodeModelMetadata(m: MetadataSource): unknown {
  return {
    // TF Serving echoes the request's model spec, whose signature name is empty on this path.
    model_spec: { name: m.name, signature_name: '', version: m.version },
    metadata: {
      signature_def: {
        signature_def: {
          [DEFAULT_SIGNATURE]: {
            inputs: tensorInfos(m.inputs),
            outputs: tensorInfos(m.outputs),
            method_name: 'tensorflow/serving/predict',
          },
        },
      },
    },
  };
}
