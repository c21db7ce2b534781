import {
  type Datatype,
  elementCount,
  type InferRequest,
  InvalidRequestError,
  type Parameters,
  type RequestedOutput,
  type Tensor,
} from '../../core/index.js';
import { formatIssues } from '../../spec/index.js';
import { tensorDataFromBinary, tensorDataToBinary } from './binary-data.js';
import { tensorDataFromJson, tensorDataToJson } from './json-data.js';
import { type InferRequestBody, inferRequestSchema } from './schema.js';

/** Parses the JSON part of a body, naming the problem when it is not JSON. */
export function parseJsonBody(body: Uint8Array, length: number = body.byteLength): unknown {
  const text = Buffer.from(body.buffer, body.byteOffset, length).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidRequestError(
      'FLT_INVALID_JSON',
      `request body is not valid JSON: ${(err as Error).message}`,
    );
  }
}

/** What a request says of one input before its data is read. */
export interface InputHead {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/**
 * Checks a request's inputs (names, datatypes, shapes, batch) against the model before any of
 * their data is decoded; throws a 4xx naming the rule broken. The server passes its
 * `checkInputs` here: the rules live in one place and every front end runs them first.
 */
export type CheckInputs = (inputs: readonly InputHead[]) => void;

/**
 * Decodes `POST /v2/models/{model}[/versions/{v}]/infer`. With Triton's binary extension,
 * `headerLength` (the `Inference-Header-Content-Length` header) splits the JSON header from the
 * binary tensor data that follows it. `check` runs on the inputs' names, datatypes and shapes
 * before their data is read: decoding then costs what the model accepts, whatever the body holds.
 */
export function decodeInferRequest(
  body: Uint8Array,
  headerLength: number | undefined,
  target: { readonly model: string; readonly version?: string },
  check?: CheckInputs,
): InferRequest {
  if (headerLength !== undefined && (headerLength < 0 || headerLength > body.byteLength)) {
    throw new InvalidRequestError(
      'FLT_INVALID_BINARY',
      `Inference-Header-Content-Length is ${headerLength} but the body is ${body.byteLength} bytes`,
    );
  }
  const header =
    headerLength === undefined ? parseHeader(body, body.byteLength) : cachedHeader(body, headerLength);
  check?.(header.inputs);
  return toInferRequest(header, body, headerLength ?? body.byteLength, target);
}

function parseHeader(body: Uint8Array, length: number): InferRequestBody {
  const raw = parseJsonBody(body, length);
  const parsed = inferRequestSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidRequestError('FLT_INVALID_FIELD', formatIssues(parsed.error, raw));
  return parsed.data;
}

/**
 * Validated JSON headers of binary requests, by their text. A client sends the same header with
 * every request (only the tensor bytes after it change), and parsing plus validating it costs
 * more than a small model's inference; entries are frozen so no request can change another's.
 */
const headerCache = new Map<string, InferRequestBody>();
const HEADER_CACHE_ENTRIES = 256;
const HEADER_CACHE_TEXT = 4096;

function cachedHeader(body: Uint8Array, length: number): InferRequestBody {
  if (length > HEADER_CACHE_TEXT) return parseHeader(body, length);
  const text = Buffer.from(body.buffer, body.byteOffset, length).toString('latin1');
  const hit = headerCache.get(text);
  if (hit) return hit;
  const header = parseHeader(body, length);
  // Request ids differ per request: caching them would only churn the cache. JSON tensor data
  // changes per request too, and is the one part that may nest deeply: only headers without it
  // are kept (and frozen, at most a few levels deep).
  if (header.id === undefined && header.inputs.every((input) => input.data === undefined)) {
    if (headerCache.size >= HEADER_CACHE_ENTRIES) headerCache.clear();
    headerCache.set(text, deepFreeze(header));
  }
  return header;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function toInferRequest(
  req: InferRequestBody,
  body: Uint8Array,
  binaryStart: number,
  target: { readonly model: string; readonly version?: string },
): InferRequest {
  let offset = binaryStart;
  const inputs: Tensor[] = req.inputs.map((input, i) => {
    const field = `inputs[${i}] ("${input.name}")`;
    const count = elementCount(input.shape);
    const binarySize = input.parameters?.['binary_data_size'];
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isInteger(binarySize) || binarySize < 0) {
        throw new InvalidRequestError(
          'FLT_INVALID_FIELD',
          `${field}.parameters.binary_data_size: must be a non-negative integer`,
        );
      }
      if (offset + binarySize > body.byteLength) {
        throw new InvalidRequestError(
          'FLT_INVALID_BINARY',
          `${field}: binary_data_size ${binarySize} runs past the end of the body (${body.byteLength - offset} bytes left)`,
        );
      }
      const bytes = body.subarray(offset, offset + binarySize);
      offset += binarySize;
      const data = tensorDataFromBinary(input.datatype, bytes, count, field);
      return { name: input.name, datatype: input.datatype, shape: input.shape, data } as Tensor;
    }
    if (input.data === undefined) {
      throw new InvalidRequestError(
        'FLT_INVALID_FIELD',
        `${field}.data: required (or parameters.binary_data_size)`,
      );
    }
    const base64 = input.parameters?.['content_type'] === 'base64';
    // The shape bounds the walk: nesting past its rank or elements past its count are refused
    // before any element is converted.
    const data = tensorDataFromJson(input.datatype, input.data, `${field}.data`, {
      base64,
      shape: input.shape,
    });
    return { name: input.name, datatype: input.datatype, shape: input.shape, data } as Tensor;
  });
  if (offset !== body.byteLength) {
    throw new InvalidRequestError(
      'FLT_INVALID_BINARY',
      `the body has ${body.byteLength - offset} bytes after the JSON header that no binary_data_size accounts for`,
    );
  }
  return {
    model: target.model,
    ...(target.version !== undefined ? { version: target.version } : {}),
    ...(req.id !== undefined ? { id: req.id } : {}),
    inputs,
    ...(req.outputs ? { outputs: req.outputs as RequestedOutput[] } : {}),
    ...(req.parameters ? { parameters: req.parameters as Parameters } : {}),
  };
}

/** Options for encoding a request (client side). */
export interface EncodeRequestOptions {
  /** Send input tensors in the binary extension instead of JSON arrays. */
  readonly binaryInputs?: boolean;
  /** Ask for outputs in the binary extension. */
  readonly binaryOutputs?: boolean;
}

/** An encoded body; `headerLength` is set when the binary extension is used. */
export interface EncodedBody {
  readonly body: Buffer;
  readonly headerLength?: number;
}

/** Encodes an inference request body as a Triton/KServe client would (client side). */
export function encodeInferRequest(req: InferRequest, options: EncodeRequestOptions = {}): EncodedBody {
  const binaries: Uint8Array[] = [];
  // Tensor data is written as JSON text directly: JSON.stringify would first need plain arrays.
  const inputs = req.inputs.map((t) => {
    const head = `{"name":${JSON.stringify(t.name)},"shape":${JSON.stringify(t.shape)},"datatype":"${t.datatype}"`;
    if (options.binaryInputs) {
      const bytes = tensorDataToBinary(t);
      binaries.push(bytes);
      return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
    }
    const { json, base64 } = tensorDataToJson(t);
    return `${head}${base64 ? ',"parameters":{"content_type":"base64"}' : ''},"data":${json}}`;
  });
  let json = `{"inputs":[${inputs.join(',')}]`;
  if (req.id !== undefined) json += `,"id":${JSON.stringify(req.id)}`;
  if (req.parameters || options.binaryOutputs) {
    const parameters = { ...req.parameters, ...(options.binaryOutputs ? { binary_data_output: true } : {}) };
    json += `,"parameters":${JSON.stringify(parameters)}`;
  }
  if (req.outputs) json += `,"outputs":${JSON.stringify(req.outputs)}`;
  json += '}';
  const head = Buffer.from(json);
  if (binaries.length === 0) return { body: head };
  return { body: Buffer.concat([head, ...binaries]), headerLength: head.byteLength };
}
