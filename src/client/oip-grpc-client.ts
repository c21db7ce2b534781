import {
  type ChannelCredentials,
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import type { InferRequest, InferResponse } from '../core/index.js';
import {
  decodeModelInferResponse,
  encodeModelInferRequest,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
  type ModelMetadataResponseMessage,
  oipGrpcServiceDefinition,
} from '../protocol/oip-grpc/index.js';
import type { ClientTls } from '../tls/index.js';

/** A failed call: the gRPC status, its message, and Flotilla's error code when the server sent one. */
export class OipGrpcError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'OipGrpcError';
  }
}

export interface OipGrpcClientOptions {
  /** `host:port` */
  readonly address: string;
  /** Largest message sent or received (gRPC's default receive limit is 4 MiB). */
  readonly maxMessageBytes?: number;
  /** Speak gRPC over TLS (grpcs): the CA to trust, a client certificate (mTLS), the name to verify. */
  readonly tls?: ClientTls | undefined;
}

/** Channel credentials: insecure (h2c) without `tls`. */
function channelCredentials(tls: ClientTls | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, {
    rejectUnauthorized: tls.rejectUnauthorized,
  });
}

type Unary = (
  req: unknown,
  metadata: Metadata,
  callback: (err: ServiceError | null, res: unknown) => void,
) => void;

/**
 * A typed Open Inference Protocol v2 client over gRPC (`inference.GRPCInferenceService`), built on
 * the same proto and codec as the server. Used by tests and the bench.
 */
export class OipGrpcClient {
  private readonly client: Client;

  constructor(options: OipGrpcClientOptions) {
    const Ctor = makeGenericClientConstructor(oipGrpcServiceDefinition(), 'GRPCInferenceService');
    const max = options.maxMessageBytes ?? 256 * 1024 * 1024;
    this.client = new Ctor(options.address, channelCredentials(options.tls), {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
      ...(options.tls?.servername !== undefined
        ? { 'grpc.ssl_target_name_override': options.tls.servername }
        : {}),
    });
  }

  private call<T>(method: string, req: unknown, metadata = new Metadata()): Promise<T> {
    const fn = (this.client as unknown as Record<string, Unary>)[method]!.bind(this.client);
    return new Promise((resolve, reject) =>
      fn(req, metadata, (err, res) => {
        if (!err) return resolve(res as T);
        const code = err.metadata?.get('flotilla-error-code')[0];
        reject(
          new OipGrpcError(err.code, err.details || err.message, typeof code === 'string' ? code : undefined),
        );
      }),
    );
  }

  /** Runs an inference; `raw` sends tensors in `raw_input_contents` (and gets raw outputs back). */
  async infer(req: InferRequest, options: { readonly raw?: boolean } = {}): Promise<InferResponse> {
    return decodeModelInferResponse(await this.modelInfer(encodeModelInferRequest(req, options)));
  }

  /** `ModelInfer` with an already encoded message (load generators encode once and resend). */
  modelInfer(message: ModelInferRequestMessage): Promise<ModelInferResponseMessage> {
    return this.call<ModelInferResponseMessage>('ModelInfer', message);
  }

  /** `ModelMetadata`: a model's versions, inputs and outputs (dims arrive as strings, int64 on the wire). */
  modelMetadata(name: string, version?: string): Promise<ModelMetadataResponseMessage> {
    return this.call<ModelMetadataResponseMessage>('ModelMetadata', { name, version: version ?? '' });
  }

  async serverReady(): Promise<boolean> {
    return (await this.call<{ ready: boolean }>('ServerReady', {})).ready;
  }

  close(): void {
    this.client.close();
  }
}
