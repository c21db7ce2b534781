import {
  DATATYPES,
  elementCount,
  type InferRequest,
  type InferResponse,
  InvalidRequestError,
  isDatatype,
  type RequestedOutput,
  type Tensor,
} from '../../core/index.js';
import { tensorDataFromBinary, tensorDataToBinary } from '../oip-rest/index.js';
import type {
  Int64Value,
  ModelInferRequestMessage,
  ModelInferResponseMessage,
  TensorMessage,
} from './messages.js';
import { parametersFromMessage, parametersToMessage } from './parameters.js';
import { filledContentsFields, tensorDataFromContents, tensorDataToContents } from './tensor-contents.js';

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

function parseShape(shape: readonly Int64Value[] | undefined, field: string): number[] {
  return (shape ?? []).map((d, j) => {
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0)
      throw bad(`${field}.shape[${j}]`, `must be a non-negative integer, got ${d}`);
    return n;
  });
}

/**
 * One tensor of a request (`inputs`) or response (`outputs`). `raw` is its raw_*_contents entry
 * when the message uses raw contents; typed `contents` are then refused.
 */
function decodeTensor(
  msg: TensorMessage,
  index: number,
  list: 'inputs' | 'outputs',
  raw: Uint8Array | undefined,
): Tensor {
  const rawList = list === 'inputs' ? 'raw_input_contents' : 'raw_output_contents';
  const name = msg.name ?? '';
  if (name === '') throw bad(`${list}[${index}].name`, 'required');
  const field = `${list}[${index}] (${JSON.stringify(name)})`;
  const datatype = msg.datatype ?? '';
  if (!isDatatype(datatype))
    throw bad(
      `${field}.datatype`,
      `must be one of ${DATATYPES.join(', ')} (got ${JSON.stringify(datatype)})`,
    );
  const shape = parseShape(msg.shape, field);
  if (raw === undefined) {
    const data = tensorDataFromContents(datatype, msg.contents, shape, field, rawList);
    return { name, datatype, shape, data } as Tensor;
  }
  const stray = filledContentsFields(msg.contents)[0];
  if (stray !== undefined)
    throw bad(`${field}.contents.${stray}`, `must be empty when ${rawList} is used (one or the other)`);
  const data = tensorDataFromBinary(
    datatype,
    raw,
    elementCount(shape),
    `${rawList}[${index}] (${JSON.stringify(name)})`,
  );
  return { name, datatype, shape, data } as Tensor;
}

/** The raw_*_contents entries, checked to pair one to one with the tensors; undefined when unused. */
function rawEntries(
  raw: readonly Uint8Array[] | undefined,
  tensors: number,
  rawList: string,
  list: string,
): readonly Uint8Array[] | undefined {
  if (!raw || raw.length === 0) return undefined;
  if (raw.length !== tensors)
    throw bad(
      rawList,
      `has ${raw.length} entries but there are ${tensors} ${list}; give one per tensor, in order`,
    );
  return raw;
}

/** A decoded ModelInfer request and whether it used raw_input_contents (then the answer is raw too). */
export interface DecodedInferRequest {
  readonly request: InferRequest;
  readonly raw: boolean;
}

/**
 * Decodes `ModelInfer` into the core request, checking what the wire format alone can check:
 * names, datatypes, shapes against element counts, raw vs typed contents. Checks against the
 * model (inputs it has, datatypes, shapes it takes) are the inference service's.
 */
export function decodeModelInferRequest(msg: ModelInferRequestMessage): DecodedInferRequest {
  const inputs = msg.inputs ?? [];
  if (inputs.length === 0) throw bad('inputs', 'at least one input is required');
  const raw = rawEntries(msg.raw_input_contents, inputs.length, 'raw_input_contents', 'inputs');
  const tensors = inputs.map((t, i) => decodeTensor(t, i, 'inputs', raw?.[i]));
  const outputs = (msg.outputs ?? []).map((o, i): RequestedOutput => {
    if (!o.name) throw bad(`outputs[${i}].name`, 'required');
    const parameters = parametersFromMessage(o.parameters, `outputs[${i}].parameters`);
    return { name: o.name, ...(parameters ? { parameters } : {}) };
  });
  const parameters = parametersFromMessage(msg.parameters, 'parameters');
  const request: InferRequest = {
    model: msg.model_name ?? '',
    ...(msg.model_version ? { version: msg.model_version } : {}),
    ...(msg.id ? { id: msg.id } : {}),
    inputs: tensors,
    ...(outputs.length > 0 ? { outputs } : {}),
    ...(parameters ? { parameters } : {}),
  };
  return { request, raw: raw !== undefined };
}

/** Tensors as messages plus raw contents; raw when asked or when a tensor is FP16 (no typed field). */
function encodeTensors(
  tensors: readonly Tensor[],
  raw: boolean,
): { messages: TensorMessage[]; raw: Uint8Array[] } {
  const useRaw = raw || tensors.some((t) => t.datatype === 'FP16');
  const messages = tensors.map((t): TensorMessage => {
    const head = { name: t.name, datatype: t.datatype, shape: [...t.shape] };
    return useRaw ? head : { ...head, contents: tensorDataToContents(t) ?? null };
  });
  return { messages, raw: useRaw ? tensors.map(tensorDataToBinary) : [] };
}

/**
 * Encodes a `ModelInfer` answer. With `raw` (the request used raw_input_contents, as Triton
 * does) every output goes in raw_output_contents; FP16 outputs force raw as well.
 */
export function encodeModelInferResponse(
  res: InferResponse,
  options: { readonly raw: boolean },
): ModelInferResponseMessage {
  const { messages, raw } = encodeTensors(res.outputs, options.raw);
  return {
    model_name: res.model,
    model_version: res.version,
    id: res.id ?? '',
    outputs: messages,
    raw_output_contents: raw,
  };
}

/** Encodes a `ModelInfer` request as a KServe/Triton client would (client side, tests, bench). */
export function encodeModelInferRequest(
  req: InferRequest,
  options: { readonly raw?: boolean } = {},
): ModelInferRequestMessage {
  const { messages, raw } = encodeTensors(req.inputs, options.raw ?? false);
  return {
    model_name: req.model,
    model_version: req.version ?? '',
    id: req.id ?? '',
    parameters: parametersToMessage(req.parameters),
    inputs: messages,
    outputs: (req.outputs ?? []).map((o) => ({
      name: o.name,
      parameters: parametersToMessage(o.parameters),
    })),
    raw_input_contents: raw,
  };
}

/** Decodes a `ModelInfer` answer (client side); raw and typed outputs alike. */
export function decodeModelInferResponse(msg: ModelInferResponseMessage): InferResponse {
  const outputs = msg.outputs ?? [];
  const raw = rawEntries(msg.raw_output_contents, outputs.length, 'raw_output_contents', 'outputs');
  return {
    model: msg.model_name ?? '',
    version: msg.model_version ?? '',
    ...(msg.id ? { id: msg.id } : {}),
    outputs: outputs.map((t, i) => decodeTensor(t, i, 'outputs', raw?.[i])),
  };
}
