import type { Tensor, TensorSpec } from '../../core/index.js';
import { DEFAULT_SIGNATURE } from '../tfserving/index.js';
import { TF_DTYPE_NUMBER, VALUE_FIELD_OF } from './dtypes.js';
import { ProtoWriter } from './proto-writer.js';

/**
 * The answers the TF Serving front end writes itself: PredictResponse (values in the typed
 * fields, as TF Serving answers by default and as its clients read them: `outputs['scores']
 * .float_val`) and the SignatureDefMap inside GetModelMetadata's `Any`.
 */

/** `tensor_shape` with one `dim { size }` per dimension (-1: any size, in signatures). */
function shapeMessage(shape: readonly number[]): ProtoWriter {
  const w = new ProtoWriter();
  for (const size of shape) {
    const dim = new ProtoWriter();
    if (size !== 0) dim.tag(1, 0).varint64(BigInt(size));
    w.message(2, dim);
  }
  return w;
}

/** The bytes of a typed array (a view, little-endian as TensorFlow's wire is). */
function rawBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A TensorProto of an output tensor, values in the dtype's own field. */
export function tensorProtoMessage(t: Tensor): ProtoWriter {
  const w = new ProtoWriter();
  w.tag(1, 0).varint(TF_DTYPE_NUMBER[t.datatype]);
  w.message(2, shapeMessage(t.shape));
  const field = VALUE_FIELD_OF[t.datatype];
  switch (t.datatype) {
    case 'BYTES':
      for (const b of t.data) w.bytes(8, b);
      return w;
    case 'FP32':
    case 'FP64':
      // Packed fixed-width values are the array's own bytes.
      if (t.data.length > 0) w.bytes(field, rawBytes(t.data));
      return w;
    default: {
      if (t.data.length === 0) return w;
      const packed = new ProtoWriter();
      if (t.datatype === 'INT64' || t.datatype === 'UINT64') {
        for (const v of t.data) packed.varint64(v);
      } else if (t.datatype === 'INT8' || t.datatype === 'INT16' || t.datatype === 'INT32') {
        // int32 varints: negative values are sign-extended to 64 bits.
        for (const v of t.data) v < 0 ? packed.varint64(BigInt(v)) : packed.varint(v);
      } else {
        for (const v of t.data) packed.varint(v);
      }
      return w.message(field, packed);
    }
  }
}

/** What a PredictResponse says of the model that answered. */
export interface AnsweringModel {
  readonly name: string;
  readonly version: number;
}

/** `model_spec { name, version { value }, signature_name }`, as TF Serving echoes it. */
function modelSpecMessage(m: AnsweringModel, signature: string): ProtoWriter {
  const w = new ProtoWriter().string(1, m.name);
  w.message(2, new ProtoWriter().tag(1, 0).varint(m.version));
  if (signature) w.string(3, signature);
  return w;
}

/** A PredictResponse: `outputs` (field 1, one map entry per tensor) and `model_spec` (2). */
export function encodePredictResponse(outputs: readonly Tensor[], model: AnsweringModel): Uint8Array {
  const w = new ProtoWriter();
  for (const t of outputs) {
    const entry = new ProtoWriter().string(1, t.name).message(2, tensorProtoMessage(t));
    w.message(1, entry);
  }
  w.message(2, modelSpecMessage(model, DEFAULT_SIGNATURE));
  return w.finish();
}

/** `map<string, TensorInfo>` entries: name, dtype and shape of each tensor. */
function tensorInfos(w: ProtoWriter, field: number, specs: readonly TensorSpec[]): void {
  for (const s of specs) {
    const info = new ProtoWriter().string(1, s.name).tag(2, 0).varint(TF_DTYPE_NUMBER[s.datatype]);
    info.message(3, shapeMessage(s.shape));
    w.message(field, new ProtoWriter().string(1, s.name).message(2, info));
  }
}

/** The type URL of GetModelMetadata's `signature_def` entry. */
export const SIGNATURE_DEF_MAP_TYPE_URL = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

/**
 * A SignatureDefMap with the one signature Flotilla models have, `serving_default`, a predict
 * signature whose inputs and outputs are the model's tensors (TensorInfo.name is the tensor's
 * name: there is no graph to name).
 */
export function encodeSignatureDefMap(
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
): Uint8Array {
  const sig = new ProtoWriter();
  tensorInfos(sig, 1, inputs);
  tensorInfos(sig, 2, outputs);
  sig.string(3, 'tensorflow/serving/predict');
  const entry = new ProtoWriter().string(1, DEFAULT_SIGNATURE).message(2, sig);
  return new ProtoWriter().message(1, entry).finish();
}
