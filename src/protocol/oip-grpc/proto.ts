import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Options, PackageDefinition } from '@grpc/proto-loader';
import { InternalError } from '../../core/index.js';

/** The fully qualified name of the inference service in proto/grpc_service.proto. */
export const OIP_GRPC_SERVICE = 'inference.GRPCInferenceService';

/**
 * How proto-loader maps messages to plain objects (the shapes in messages.ts):
 * - `keepCase`: field names as in the .proto (`raw_input_contents`), as KServe and Triton spell them;
 * - `longs: String`: int64/uint64 as exact decimal strings, since a JS number loses INT64 values
 *   above 2^53 and BigInt is not one of the loader's choices;
 * - `bytes: Buffer`: raw contents arrive as Buffers viewing the received message, no base64;
 * - `defaults: true`: absent fields read as their proto3 defaults ('' / [] / {}), so an empty
 *   `model_version` means "no version" exactly as the protocol says;
 * - `oneofs: true`: `InferParameter.parameter_choice` names the member that is set.
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

/**
 * Path of a file under the package's `proto/` folder (`grpc_service.proto`,
 * `paddle_serving/sdk_configure.proto`): found by looking upward from this module, so it resolves
 * from src/ and from dist/src/ alike.
 */
export function protoFilePath(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto', relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`proto/${relative} not found above ${import.meta.url}`);
    dir = parent;
  }
}

/** Path of the interface definition Flotilla serves. */
export const oipGrpcProtoPath = (): string => protoFilePath('grpc_service.proto');

/** Loads proto/grpc_service.proto with `PROTO_LOADER_OPTIONS` (synchronously: once at start). */
export function loadOipGrpcDefinition(): PackageDefinition {
  // Required on first use: the model server's HTTP path never needs the proto loader.
  const loader = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  return loader.loadSync(oipGrpcProtoPath(), PROTO_LOADER_OPTIONS);
}

/** The `GRPCInferenceService` definition, for a server's `addService` or a generic client. */
export function oipGrpcServiceDefinition(): ServiceDefinition {
  const def = loadOipGrpcDefinition()[OIP_GRPC_SERVICE];
  // A service entry maps method names to definitions; messages carry `format` instead.
  if (!def || 'format' in def)
    throw new InternalError('FLT_INTERNAL', `${OIP_GRPC_SERVICE} missing from the proto`);
  return def as ServiceDefinition;
}
