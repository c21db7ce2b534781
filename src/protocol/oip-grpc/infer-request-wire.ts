import {
  DATATYPES,
  type Datatype,
  InvalidRequestError,
  isDatatype,
  type Parameters,
  type RequestedOutput,
} from '../../core/index.js';
import type { InferParameterMessage } from './messages.js';
import { parametersFromEntries, readParameterEntry } from './parameters-wire.js';
import { int64String, WIRE, WireReader } from './wire-reader.js';

/**
 * Most dimensions a shape may have (numpy's limit). A model's shape has a handful; the bound
 * keeps a shape of a million dimensions from being read before the model refuses its rank.
 */
export const MAX_RANK = 64;

/**
 * A `ModelInferRequest` read only as far as routing needs: the three strings and how many
 * entries each repeated field has. One pass over the top-level fields, no per-entry allocation.
 */
export interface ModelInferEnvelope {
  /** The whole message; later steps read their byte ranges from it. */
  readonly buf: Uint8Array;
  readonly model: string;
  /** '' means "the newest ready version" (proto3 cannot tell unset from ''). */
  readonly version: string;
  readonly id: string;
  /** Entries of `inputs`, `outputs` and `raw_input_contents`. */
  readonly inputs: number;
  readonly outputs: number;
  readonly raw: number;
}

/** One input's header: everything but its data, which stays a byte range of the message. */
export interface InputHeader {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** The payload of its `contents` (the last one sent, as protobufjs reads it); undefined when absent. */
  readonly contents: { readonly start: number; readonly end: number } | undefined;
  /** Names the tensor in errors: `inputs[0] ("image")`. */
  readonly field: string;
}

/** A request's header: checked against a model before any of its tensor data is decoded. */
export interface ModelInferHeader {
  readonly envelope: ModelInferEnvelope;
  /** The first `limits.inputs` inputs, in message order. */
  readonly inputs: readonly InputHeader[];
  /** The first `limits.outputs` requested outputs. */
  readonly outputs: readonly RequestedOutput[];
  readonly parameters: Parameters | undefined;
  /** raw_input_contents entries (views of the message) paired with `inputs`; undefined when unused. */
  readonly raw: readonly Uint8Array[] | undefined;
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

/** Reads the envelope of a ModelInfer message; throws `FLT_INVALID_PROTOBUF` for broken framing. */
export function readModelInferEnvelope(buf: Uint8Array): ModelInferEnvelope {
  const r = new WireReader(buf, 0, buf.length, 'ModelInferRequest');
  const strings = ['', '', ''];
  const counts = [0, 0, 0];
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field >= 1 && field <= 3) {
      const name = ['model_name', 'model_version', 'id'][field - 1]!;
      r.expect(tag, WIRE.LEN, name);
      strings[field - 1] = r.string(field, name);
    } else if (field >= 4 && field <= 7) {
      const name = ['parameters', 'inputs', 'outputs', 'raw_input_contents'][field - 4]!;
      r.expect(tag, WIRE.LEN, name);
      r.pos = r.len(field);
      if (field >= 5) counts[field - 5]!++;
    } else r.skip(tag & 7, field);
  }
  const [model = '', version = '', id = ''] = strings;
  const [inputs = 0, outputs = 0, raw = 0] = counts;
  return { buf, model, version, id, inputs, outputs, raw };
}

/** A shape being read; a dimension that is not a non-negative safe integer is kept to be refused later. */
interface ShapeState {
  readonly dims: number[];
  refused: { readonly j: number; readonly text: string } | undefined;
}

/** The shape field (packed or not; chunks concatenate), at most MAX_RANK dimensions. */
function readShape(r: WireReader, tag: number, index: number, shape: ShapeState): void {
  const push = (sub: WireReader): void => {
    if (shape.dims.length >= MAX_RANK)
      throw bad(`inputs[${index}].shape`, `has more than ${MAX_RANK} dimensions`);
    const lo = sub.varint();
    const hi = sub.hi;
    // Safe integers end below 2^53: the high word below 2^21 (and its sign bit clear).
    if (hi >= 0x200000 && shape.refused === undefined)
      shape.refused = { j: shape.dims.length, text: int64String(lo, hi, true) };
    shape.dims.push(hi * 2 ** 32 + lo);
  };
  if ((tag & 7) === WIRE.VARINT) {
    push(r);
    return;
  }
  r.expect(tag, WIRE.LEN, 'shape');
  const packed = r.sub(3, `inputs[${index}].shape`);
  while (!packed.done) push(packed);
}

function readInput(r: WireReader, index: number): InputHeader {
  const m = r.sub(5, `inputs[${index}]`);
  let name = '';
  let datatype = '';
  const shape: ShapeState = { dims: [], refused: undefined };
  const ignored = new Map<string, InferParameterMessage>();
  let contents: InputHeader['contents'];
  while (!m.done) {
    const tag = m.tag();
    const f = tag >>> 3;
    if (f === 1 || f === 2) {
      m.expect(tag, WIRE.LEN, f === 1 ? 'name' : 'datatype');
      if (f === 1) name = m.string(f, 'name');
      else datatype = m.string(f, 'datatype');
    } else if (f === 3) readShape(m, tag, index, shape);
    // Input parameters are not used; read anyway so that broken ones are refused.
    else if (f === 4) {
      m.expect(tag, WIRE.LEN, 'parameters');
      readParameterEntry(m, f, ignored, `inputs[${index}].parameters`);
    } else if (f === 5) {
      m.expect(tag, WIRE.LEN, 'contents');
      const end = m.len(f);
      contents = { start: m.pos, end };
      m.pos = end;
    } else m.skip(tag & 7, f);
  }
  if (name === '') throw bad(`inputs[${index}].name`, 'required');
  const field = `inputs[${index}] (${JSON.stringify(name)})`;
  if (!isDatatype(datatype))
    throw bad(
      `${field}.datatype`,
      `must be one of ${DATATYPES.join(', ')} (got ${JSON.stringify(datatype)})`,
    );
  if (shape.refused)
    throw bad(
      `${field}.shape[${shape.refused.j}]`,
      `must be a non-negative integer, got ${shape.refused.text}`,
    );
  return { name, datatype, shape: shape.dims, contents, field };
}

function readOutput(r: WireReader, index: number): RequestedOutput {
  const m = r.sub(6, `outputs[${index}]`);
  let name = '';
  const params = new Map<string, InferParameterMessage>();
  while (!m.done) {
    const tag = m.tag();
    const f = tag >>> 3;
    if (f === 1) {
      m.expect(tag, WIRE.LEN, 'name');
      name = m.string(f, 'name');
    } else if (f === 2) {
      m.expect(tag, WIRE.LEN, 'parameters');
      readParameterEntry(m, f, params, `outputs[${index}].parameters`);
    } else m.skip(tag & 7, f);
  }
  if (!name) throw bad(`outputs[${index}].name`, 'required');
  const parameters = parametersFromEntries(params, `outputs[${index}].parameters`);
  return { name, ...(parameters ? { parameters } : {}) };
}

/** How many inputs and outputs to read at most: one more than the model has is enough to refuse. */
export interface HeaderLimits {
  readonly inputs: number;
  readonly outputs: number;
}

/**
 * Reads the header of every input (up to `limits.inputs`) and requested output (up to
 * `limits.outputs`), with the checks the wire alone allows: names, datatypes, shapes, raw
 * entries paired one to one with the inputs. Tensor data is not touched.
 */
export function readModelInferHeader(
  envelope: ModelInferEnvelope,
  limits: HeaderLimits = { inputs: Number.POSITIVE_INFINITY, outputs: Number.POSITIVE_INFINITY },
): ModelInferHeader {
  if (envelope.inputs === 0) throw bad('inputs', 'at least one input is required');
  const useRaw = envelope.raw > 0;
  if (useRaw && envelope.raw !== envelope.inputs)
    throw bad(
      'raw_input_contents',
      `has ${envelope.raw} entries but there are ${envelope.inputs} inputs; give one per tensor, in order`,
    );
  const { buf } = envelope;
  const r = new WireReader(buf, 0, buf.length, 'ModelInferRequest');
  const inputs: InputHeader[] = [];
  const outputs: RequestedOutput[] = [];
  const raw: Uint8Array[] = [];
  const params = new Map<string, InferParameterMessage>();
  let seenInputs = 0;
  let seenOutputs = 0;
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    // The envelope checked framing and wire types already.
    if (field === 4) readParameterEntry(r, field, params, 'parameters');
    else if (field === 5 && seenInputs < limits.inputs) inputs.push(readInput(r, seenInputs++));
    else if (field === 6 && seenOutputs < limits.outputs) outputs.push(readOutput(r, seenOutputs++));
    else if (field === 7 && raw.length < limits.inputs) {
      const end = r.len(field);
      raw.push(buf.subarray(r.pos, end));
      r.pos = end;
    } else r.skip(tag & 7, field);
  }
  return {
    envelope,
    inputs,
    outputs,
    parameters: parametersFromEntries(params, 'parameters'),
    raw: useRaw ? raw : undefined,
  };
}
