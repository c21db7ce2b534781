import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { InternalError } from '../../core/index.js';
import { oipGrpcProtoPath, PROTO_LOADER_OPTIONS } from '../oip-grpc/index.js';

/** TF Serving's two gRPC services, by their fully qualified names. */
export const TF_PREDICTION_SERVICE = 'tensorflow.serving.PredictionService';
export const TF_MODEL_SERVICE = 'tensorflow.serving.ModelService';

/** The .proto files (under proto/, TF Serving's own paths) that define them. */
export const TF_SERVING_PROTO_FILES = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
] as const;

/** The folder holding proto/grpc_service.proto and TF Serving's tree: the include root. */
export function protoRoot(): string {
  return dirname(oipGrpcProtoPath());
}

/** Loads TF Serving's services from proto/ (synchronously: once at start). */
export function loadTfServingDefinition(): PackageDefinition {
  // Required on first use, as the OIP proto is: the HTTP path never needs the loader.
  const loader = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  return loader.loadSync([...TF_SERVING_PROTO_FILES], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoRoot()],
  });
}

/** An encoded answer as the Buffer grpc-js writes (a view, not a copy). */
function asBuffer(bytes: unknown): Buffer {
  const b = bytes as Uint8Array;
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A TF Serving service definition whose handlers take the request bytes as received (every
 * request is read by this module's strict readers) and, for `rawResponses`, return the answer's
 * bytes already encoded.
 */
export function tfServingServiceDefinition(
  definition: PackageDefinition,
  service: typeof TF_PREDICTION_SERVICE | typeof TF_MODEL_SERVICE,
  rawResponses: ReadonlySet<string>,
): ServiceDefinition {
  const def = definition[service];
  if (!def || 'format' in def) throw new InternalError('FLT_INTERNAL', `${service} missing from the protos`);
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [method, m] of Object.entries(def as ServiceDefinition)) {
    out[method] = {
      ...m,
      requestDeserialize: (bytes: Buffer) => bytes,
      ...(rawResponses.has(method) ? { responseSerialize: asBuffer } : {}),
    };
  }
  return out;
}
