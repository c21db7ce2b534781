import { InvalidRequestError } from '../../core/index.js';
import { int64String, WIRE, WireReader } from '../oip-grpc/index.js';

/**
 * `tensorflow.serving.ModelSpec` read from the wire: which model, which version (a number or a
 * label: a oneof, the last one sent wins) and which signature.
 */
export interface ModelSpecWire {
  readonly name: string;
  /** `version.value` as a decimal string; undefined when the oneof is unset or holds the label. */
  readonly version: string | undefined;
  /** `version_label`; undefined when the oneof is unset or holds the version. */
  readonly label: string | undefined;
  /** '' means the default signature. */
  readonly signature: string;
}

/** A ModelSpec being read: repeated `model_spec` fields merge, as protobuf merges messages. */
export interface ModelSpecState {
  name: string;
  version: string | undefined;
  label: string | undefined;
  signature: string;
}

export function emptyModelSpec(): ModelSpecState {
  return { name: '', version: undefined, label: undefined, signature: '' };
}

/** `google.protobuf.Int64Value`: its `value` (field 1) as a decimal string ('0' when absent). */
function readInt64Value(r: WireReader): string {
  let value = '0';
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === 1) {
      r.expect(tag, WIRE.VARINT, 'version.value');
      const lo = r.varint();
      value = int64String(lo, r.hi, true);
    } else r.skip(tag & 7, tag >>> 3);
  }
  return value;
}

/** Reads one `model_spec` payload (`r` is its sub-reader) into `into`. */
export function readModelSpec(r: WireReader, into: ModelSpecState): void {
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) {
      r.expect(tag, WIRE.LEN, 'model_spec.name');
      into.name = r.string(1, 'model_spec.name');
    } else if (field === 2) {
      r.expect(tag, WIRE.LEN, 'model_spec.version');
      into.version = readInt64Value(r.sub(2, 'model_spec.version'));
      into.label = undefined;
    } else if (field === 3) {
      r.expect(tag, WIRE.LEN, 'model_spec.signature_name');
      into.signature = r.string(3, 'model_spec.signature_name');
    } else if (field === 4) {
      r.expect(tag, WIRE.LEN, 'model_spec.version_label');
      into.label = r.string(4, 'model_spec.version_label');
      into.version = undefined;
    } else r.skip(tag & 7, field);
  }
}

/**
 * Checks that a request named its model: TF Serving answers a missing model_spec INVALID_ARGUMENT
 * ("Missing ModelSpec"), and an empty name names no servable.
 */
export function requireModelName(spec: ModelSpecWire, seen: boolean): void {
  if (!seen) throw new InvalidRequestError('FLT_INVALID_FIELD', 'model_spec: required (Missing ModelSpec)');
  if (spec.name === '') throw new InvalidRequestError('FLT_INVALID_FIELD', 'model_spec.name: required');
}

/** A GetModelStatus or GetModelMetadata request: its model spec and metadata fields. */
export interface ModelSpecRequest {
  readonly spec: ModelSpecWire;
  readonly hasSpec: boolean;
  /** `metadata_field` (GetModelMetadataRequest field 2), at most `MAX_METADATA_FIELDS`. */
  readonly metadataFields: readonly string[];
}

/** More metadata fields than anyone asks for; the rest are not read (only one is served). */
export const MAX_METADATA_FIELDS = 8;

/**
 * Reads GetModelStatusRequest or GetModelMetadataRequest (`message` names it in errors): both
 * carry model_spec as field 1; the metadata request adds metadata_field as field 2.
 */
export function readModelSpecRequest(
  buf: Uint8Array,
  message: string,
  hasMetadataFields: boolean,
): ModelSpecRequest {
  const r = new WireReader(buf, 0, buf.length, message);
  const spec = emptyModelSpec();
  let hasSpec = false;
  const metadataFields: string[] = [];
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) {
      r.expect(tag, WIRE.LEN, 'model_spec');
      readModelSpec(r.sub(1, 'model_spec'), spec);
      hasSpec = true;
    } else if (field === 2 && hasMetadataFields) {
      r.expect(tag, WIRE.LEN, 'metadata_field');
      const value = r.string(2, 'metadata_field');
      if (metadataFields.length < MAX_METADATA_FIELDS) metadataFields.push(value);
    } else r.skip(tag & 7, field);
  }
  return { spec, hasSpec, metadataFields };
}
