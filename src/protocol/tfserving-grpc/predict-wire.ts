import { InvalidRequestError } from '../../core/index.js';
import { WIRE, WireReader } from '../oip-grpc/index.js';
import { emptyModelSpec, type ModelSpecWire, readModelSpec } from './model-spec-wire.js';
import { readTensorHeader, type TensorHeader } from './tensor-proto-wire.js';

/**
 * `tensorflow.serving.PredictRequest` read in steps, as ModelInfer is (infer-request-wire.ts):
 * the envelope (the model spec and how many entries each repeated field has) picks the model;
 * the headers of at most one input and output more than the model has are read and checked
 * against it; only then is tensor data decoded (tensor-proto-wire.ts).
 */

/** The envelope: routing fields and counts, one pass over the top-level fields. */
export interface PredictEnvelope {
  readonly buf: Uint8Array;
  readonly spec: ModelSpecWire;
  /** Whether a model_spec field was sent at all. */
  readonly hasSpec: boolean;
  /** Entries of `inputs` (map entries, duplicates included) and of `output_filter`. */
  readonly inputs: number;
  readonly outputFilter: number;
}

/** Reads the envelope of a PredictRequest; throws `FLT_INVALID_PROTOBUF` for broken framing. */
export function readPredictEnvelope(buf: Uint8Array): PredictEnvelope {
  const r = new WireReader(buf, 0, buf.length, 'PredictRequest');
  const spec = emptyModelSpec();
  let hasSpec = false;
  let inputs = 0;
  let outputFilter = 0;
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) {
      r.expect(tag, WIRE.LEN, 'model_spec');
      readModelSpec(r.sub(1, 'model_spec'), spec);
      hasSpec = true;
    } else if (field === 2 || field === 3) {
      r.expect(tag, WIRE.LEN, field === 2 ? 'inputs' : 'output_filter');
      r.pos = r.len(field);
      if (field === 2) inputs++;
      else outputFilter++;
    } else r.skip(tag & 7, field);
  }
  return { buf, spec, hasSpec, inputs, outputFilter };
}

/** A request's header: the inputs' names, dtypes and shapes, and the output filter. */
export interface PredictHeader {
  readonly inputs: readonly TensorHeader[];
  readonly outputFilter: readonly string[];
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

/** One `inputs` map entry: key (1) and TensorProto value (2); the last of each wins. */
function readInputEntry(r: WireReader, index: number): TensorHeader {
  const entry = r.sub(2, `inputs[${index}]`);
  let name = '';
  let value: { start: number; end: number } | undefined;
  while (!entry.done) {
    const tag = entry.tag();
    const f = tag >>> 3;
    if (f === 1) {
      entry.expect(tag, WIRE.LEN, 'key');
      name = entry.string(1, `inputs[${index}].key`);
    } else if (f === 2) {
      entry.expect(tag, WIRE.LEN, 'value');
      const end = entry.len(2);
      value = { start: entry.pos, end };
      entry.pos = end;
    } else entry.skip(tag & 7, f);
  }
  const sub = new WireReader(r.buf, value?.start ?? 0, value?.end ?? 0, `inputs[${JSON.stringify(name)}]`);
  return readTensorHeader(sub, name);
}

/**
 * Reads the first `limits.inputs` input entries and `limits.outputs` output filter names. A map
 * key given twice is refused (protobuf keeps the last; no client sends two), so are more entries
 * than the model has inputs: one more than the model has is enough to say so.
 */
export function readPredictHeader(
  envelope: PredictEnvelope,
  limits: { readonly inputs: number; readonly outputs: number },
): PredictHeader {
  if (envelope.inputs === 0) throw bad('inputs', 'at least one input is required');
  const { buf } = envelope;
  const r = new WireReader(buf, 0, buf.length, 'PredictRequest');
  const inputs: TensorHeader[] = [];
  const outputFilter: string[] = [];
  const names = new Set<string>();
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    // The envelope checked framing and wire types already.
    if (field === 2 && inputs.length < limits.inputs) {
      const input = readInputEntry(r, inputs.length);
      if (names.has(input.name)) throw bad('inputs', `${JSON.stringify(input.name)} is given twice`);
      names.add(input.name);
      inputs.push(input);
    } else if (field === 3 && outputFilter.length < limits.outputs) {
      const alias = r.string(3, 'output_filter');
      // TF Serving's words for it (predict_util.cc).
      if (outputFilter.includes(alias)) throw bad('output_filter', `duplicate output tensor alias: ${alias}`);
      outputFilter.push(alias);
    } else r.skip(tag & 7, field);
  }
  return { inputs, outputFilter };
}
