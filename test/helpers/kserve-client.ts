import assert from 'node:assert/strict';
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ROOT } from './paths.js';

/** KServe's v2 proto (kept as a fixture) and Triton-numbered one Flotilla serves (repository extension). */
export const KSERVE_PROTO = `${ROOT}test/fixtures/kserve/grpc_predict_v2.proto`;
export const TRITON_PROTO = `${ROOT}proto/grpc_service.proto`;

// The client knows nothing of Flotilla: it is generated at run time from the proto alone, with
// proto-loader's generic client, as any KServe/Triton user would build one.
function clientClass(proto: string): ServiceClientConstructor {
  const pkg = loadPackageDefinition(
    loadSync(proto, { keepCase: true, longs: String, bytes: Buffer, defaults: true, oneofs: true }),
  );
  return (pkg['inference'] as GrpcObject)['GRPCInferenceService'] as ServiceClientConstructor;
}

type UnaryMethod = (
  request: object,
  metadata: Metadata,
  callback: (err: ServiceError | null, response?: unknown) => void,
) => void;

/** A generic client (KServe's proto unless told) with promise-returning unary calls. */
export function kserveClient(
  address: string,
  proto = KSERVE_PROTO,
): {
  call<T = Record<string, unknown>>(method: string, request: object, metadata?: Metadata): Promise<T>;
  close(): void;
} {
  const Client = clientClass(proto);
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  return {
    call: (method, request, metadata = new Metadata()) =>
      new Promise((resolve, reject) =>
        (client[method] as UnaryMethod).call(client, request, metadata, (err, res) =>
          err ? reject(err) : resolve(res as never),
        ),
      ),
    close: () => client.close(),
  };
}

/** Asserts a call fails with a gRPC status, and its message. */
export async function rejectsWith(promise: Promise<unknown>, code: status, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: ServiceError) => {
    assert.equal(status[err.code], status[code], err.details);
    assert.match(err.details, message);
    return true;
  });
}

export const bearer = (token: string): Metadata => {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
};
