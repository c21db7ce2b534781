import { type InferRequest, InternalError, type Tensor } from '../../core/index.js';
import type { DecodedInferRequest } from './infer-codec.js';
import { assertNoContents, tensorDataFromContentsRange, tensorDataFromRaw } from './infer-contents-wire.js';
import {
  type HeaderLimits,
  type ModelInferHeader,
  readModelInferEnvelope,
  readModelInferHeader,
} from './infer-request-wire.js';

/**
 * Decodes the tensor data of a header whose inputs and outputs were all read (the caller has
 * checked them against the model first): each tensor's typed contents or raw entry, counted
 * before it is read. The result is what `decodeModelInferRequest` gives for the same message.
 */
export function decodeModelInferData(header: ModelInferHeader): DecodedInferRequest {
  const { envelope: env, raw } = header;
  if (header.inputs.length !== env.inputs || header.outputs.length !== env.outputs)
    throw new InternalError('FLT_INTERNAL', 'decodeModelInferData on a header read with lower limits');
  const inputs = header.inputs.map((h, i): Tensor => {
    const contents = h.contents && { buf: env.buf, ...h.contents, field: h.field };
    let data: Tensor['data'];
    if (raw === undefined) data = tensorDataFromContentsRange(h.datatype, contents, h.shape, h.field);
    else {
      assertNoContents(contents, 'raw_input_contents');
      data = tensorDataFromRaw(
        h.datatype,
        raw[i]!,
        h.shape,
        `raw_input_contents[${i}] (${JSON.stringify(h.name)})`,
      );
    }
    return { name: h.name, datatype: h.datatype, shape: h.shape, data } as Tensor;
  });
  const request: InferRequest = {
    model: env.model,
    ...(env.version ? { version: env.version } : {}),
    ...(env.id ? { id: env.id } : {}),
    inputs,
    ...(header.outputs.length > 0 ? { outputs: header.outputs } : {}),
    ...(header.parameters ? { parameters: header.parameters } : {}),
  };
  return { request, raw: raw !== undefined };
}

/**
 * Decodes a serialized `ModelInferRequest` without protobufjs, strictly (truncated or
 * mis-typed fields are `FLT_INVALID_PROTOBUF`). Without a model to check against, this is for
 * clients and tests; the server reads the header, checks it, then calls `decodeModelInferData`.
 */
export function decodeModelInferWire(buf: Uint8Array, limits?: HeaderLimits): DecodedInferRequest {
  return decodeModelInferData(readModelInferHeader(readModelInferEnvelope(buf), limits));
}
