import type { Tensor, TensorSpec } from '../../core/index.js';
import { decodeInferResponse, encodeInferRequest } from '../../protocol/oip-rest/index.js';
import { bytesAsBase64, denseFromJson, elementTexts, nestedJson } from '../../protocol/tfserving/index.js';
import { BenchArgumentError } from '../errors.js';

/** Every wire format the bench speaks. */
export const PROTOCOLS = ['oip', 'oip-binary', 'grpc', 'tfserving', 'paddle'] as const;

/** `oip` is OIP v2 REST with JSON tensors, `oip-binary` with Triton's binary extension. */
export type Protocol = (typeof PROTOCOLS)[number];

/** The HTTP protocols (everything but gRPC). */
export type HttpProtocol = Exclude<Protocol, 'grpc'>;

/** The model a request goes to, and what its outputs look like (TF/Paddle answers carry no datatypes). */
export interface ModelRef {
  readonly model: string;
  readonly version?: string;
  readonly outputs: readonly TensorSpec[];
}

/** The parts of an HTTP inference call that do not depend on the endpoint. */
export interface HttpCall {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const seg = encodeURIComponent;

/** A tensor as nested JSON lists (TF Serving's and Paddle's form), BYTES as strings or `{"b64"}`. */
function nested(t: Tensor): string {
  return nestedJson(elementTexts(t, bytesAsBase64(t)), t.shape);
}

function namedTensors(inputs: readonly Tensor[]): string {
  return `{${inputs.map((t) => `${JSON.stringify(t.name)}:${nested(t)}`).join(',')}}`;
}

/**
 * Encodes one request with the protocol's own codec (OIP REST's encoder, TF Serving's JSON
 * writers), done once per payload before the run. TF Serving uses the columnar format
 * (`{"inputs": {name: value}}`), which keeps the batch dimension as given; Paddle sends the whole
 * tensor as one feed entry.
 */
export function encodeHttpCall(protocol: HttpProtocol, ref: ModelRef, inputs: readonly Tensor[]): HttpCall {
  const m = seg(ref.model);
  const v = ref.version === undefined ? undefined : seg(ref.version);
  switch (protocol) {
    case 'oip':
    case 'oip-binary': {
      const binary = protocol === 'oip-binary';
      const encoded = encodeInferRequest(
        { model: ref.model, inputs },
        { binaryInputs: binary, binaryOutputs: binary },
      );
      const headers: Record<string, string> = {
        'content-type': binary ? 'application/octet-stream' : 'application/json',
      };
      if (encoded.headerLength !== undefined)
        headers['inference-header-content-length'] = String(encoded.headerLength);
      const path = v === undefined ? `/v2/models/${m}/infer` : `/v2/models/${m}/versions/${v}/infer`;
      return { path, headers, body: encoded.body };
    }
    case 'tfserving': {
      const path = v === undefined ? `/v1/models/${m}:predict` : `/v1/models/${m}/versions/${v}:predict`;
      return { path, headers: JSON_HEADERS, body: Buffer.from(`{"inputs":${namedTensors(inputs)}}`) };
    }
    case 'paddle': {
      if (v !== undefined)
        throw new BenchArgumentError("--model-version: Paddle Serving's /{model}/prediction has no version");
      const fetch = JSON.stringify(ref.outputs.map((o) => o.name));
      return {
        path: `/${m}/prediction`,
        headers: JSON_HEADERS,
        body: Buffer.from(`{"feed":[${namedTensors(inputs)}],"fetch":${fetch}}`),
      };
    }
  }
}

function objectField(value: unknown, field: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return (value as Record<string, unknown>)[field];
}

/** Reads named nested-list outputs with the datatypes the model's metadata gives. */
function namedOutputs(value: unknown, specs: readonly TensorSpec[], field: string): Tensor[] {
  const out: Tensor[] = [];
  for (const spec of specs) {
    const v = objectField(value, spec.name);
    if (v === undefined) continue;
    const dense = denseFromJson(v, spec.datatype, `${field}.${spec.name}`);
    out.push({ name: spec.name, datatype: spec.datatype, shape: dense.shape, data: dense.data } as Tensor);
  }
  return out;
}

/** Decodes the outputs of a 200 answer (for the accuracy check), with the protocol's codec. */
export function decodeHttpOutputs(
  protocol: HttpProtocol,
  ref: ModelRef,
  body: Buffer,
  headerLength: number | undefined,
): Tensor[] {
  switch (protocol) {
    case 'oip':
    case 'oip-binary':
      return [...decodeInferResponse(body, headerLength).outputs];
    case 'tfserving': {
      const outputs = objectField(JSON.parse(body.toString('utf8')), 'outputs');
      // One output is sent bare, several as an object keyed by name (TF Serving's columnar answer).
      const only = ref.outputs.length === 1 ? ref.outputs[0] : undefined;
      if (only) {
        const dense = denseFromJson(outputs, only.datatype, 'outputs');
        return [{ name: only.name, datatype: only.datatype, shape: dense.shape, data: dense.data } as Tensor];
      }
      return namedOutputs(outputs, ref.outputs, 'outputs');
    }
    case 'paddle':
      return namedOutputs(objectField(JSON.parse(body.toString('utf8')), 'result'), ref.outputs, 'result');
  }
}
