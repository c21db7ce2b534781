import {
  elementCount,
  type InferRequest,
  type InferResponse,
  InvalidRequestError,
  type Tensor,
} from '../../core/index.js';
import { formatIssues } from '../../spec/index.js';
import { tensorDataFromBinary, tensorDataToBinary } from './binary-data.js';
import { tensorDataFromJson, tensorDataToJson } from './json-data.js';
import type { EncodedBody } from './request-codec.js';
import { parseJsonBody } from './request-codec.js';
import { inferResponseSchema } from './schema.js';

/**
 * Whether an output goes in the binary section: its own `binary_data` parameter decides, else
 * the request-level `binary_data_output` (Triton's rules).
 */
function wantsBinary(name: string, req: InferRequest): boolean {
  const own = req.outputs?.find((o) => o.name === name)?.parameters?.['binary_data'];
  if (typeof own === 'boolean') return own;
  return req.parameters?.['binary_data_output'] === true;
}

/** A response body as the pieces to write one after the other (no copy of the tensor data). */
export interface EncodedParts {
  readonly parts: readonly Uint8Array[];
  readonly byteLength: number;
  readonly headerLength?: number;
}

/** Encodes a response for the request it answers; binary outputs set `headerLength`. */
export function encodeInferResponse(res: InferResponse, req: InferRequest): EncodedBody {
  const { parts, byteLength, headerLength } = encodeInferResponseParts(res, req);
  const body = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, byteLength);
  return headerLength === undefined ? { body } : { body, headerLength };
}

/**
 * The same body as separate pieces: the JSON header, then each binary output as a view of its
 * tensor, so a large output goes to the socket without being copied into one buffer first.
 */
export function encodeInferResponseParts(res: InferResponse, req: InferRequest): EncodedParts {
  const binaries: Uint8Array[] = [];
  const outputs = res.outputs.map((t) => {
    const head = `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
    if (wantsBinary(t.name, req)) {
      const bytes = tensorDataToBinary(t);
      binaries.push(bytes);
      return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
    }
    const { json, base64 } = tensorDataToJson(t);
    return `${head}${base64 ? ',"parameters":{"content_type":"base64"}' : ''},"data":${json}}`;
  });
  const id = res.id !== undefined ? `,"id":${JSON.stringify(res.id)}` : '';
  const json = `{"model_name":${JSON.stringify(res.model)},"model_version":${JSON.stringify(res.version)}${id},"outputs":[${outputs.join(',')}]}`;
  const head = Buffer.from(json);
  if (binaries.length === 0) return { parts: [head], byteLength: head.byteLength };
  let byteLength = head.byteLength;
  for (const b of binaries) byteLength += b.byteLength;
  return { parts: [head, ...binaries], byteLength, headerLength: head.byteLength };
}

/** Decodes an inference response body (client side). */
export function decodeInferResponse(body: Uint8Array, headerLength?: number): InferResponse {
  const raw = parseJsonBody(body, headerLength ?? body.byteLength);
  const parsed = inferResponseSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidRequestError('FLT_INVALID_FIELD', formatIssues(parsed.error, raw));
  let offset = headerLength ?? body.byteLength;
  const outputs = parsed.data.outputs.map((o, i): Tensor => {
    const field = `outputs[${i}] ("${o.name}")`;
    const count = elementCount(o.shape);
    const size = o.parameters?.['binary_data_size'];
    if (typeof size === 'number') {
      const data = tensorDataFromBinary(o.datatype, body.subarray(offset, offset + size), count, field);
      offset += size;
      return { name: o.name, datatype: o.datatype, shape: o.shape, data } as Tensor;
    }
    const base64 = o.parameters?.['content_type'] === 'base64';
    const data = tensorDataFromJson(o.datatype, o.data, `${field}.data`, { base64 });
    return { name: o.name, datatype: o.datatype, shape: o.shape, data } as Tensor;
  });
  return {
    model: parsed.data.model_name,
    version: parsed.data.model_version ?? '',
    ...(parsed.data.id !== undefined ? { id: parsed.data.id } : {}),
    outputs,
  };
}
