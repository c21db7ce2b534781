import { createRequire } from 'node:module';
import type { Type } from 'protobufjs';
import { ROOT } from './paths.js';

/**
 * TF Serving's messages from the .proto files under proto/, through protobufjs (the library
 * proto-loader is built on, resolved from proto-loader so the version is the one it uses): a
 * codec independent of Flotilla's, to build requests and read answers in tests.
 */
const protobuf = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'))(
  'protobufjs',
) as typeof import('protobufjs');

const root = new protobuf.Root();
root.resolvePath = (_origin: string, target: string) =>
  target.startsWith('google/') ? target : `${ROOT}proto/${target}`;
root.loadSync(
  ['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto'],
  { keepCase: true },
);

/** A TF Serving or TensorFlow message type by its full name (`tensorflow.serving.PredictRequest`). */
export function tfType(name: string): Type {
  return root.lookupType(name);
}

/** Encodes a plain object as the named message (enums by name or number). */
export function tfEncode(name: string, value: object): Buffer {
  const type = tfType(name);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** Decodes the named message into a plain object: int64 as strings, enums by name. */
export function tfDecode(name: string, bytes: Uint8Array): Record<string, unknown> {
  const type = tfType(name);
  return type.toObject(type.decode(bytes), { longs: String, enums: String, bytes: Buffer }) as Record<
    string,
    unknown
  >;
}
