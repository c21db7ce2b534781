import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { experimental, Server, ServerCredentials } from '@grpc/grpc-js';
import {
  loadOipGrpcDefinition,
  oipGrpcServiceDefinition,
  strictServiceDefinition,
} from '../../protocol/oip-grpc/index.js';
import {
  loadTfServingDefinition,
  TF_MODEL_SERVICE,
  TF_PREDICTION_SERVICE,
  tfServingServiceDefinition,
} from '../../protocol/tfserving-grpc/index.js';
import { CertificatesProvider, type ServerCertificates } from '../../tls/index.js';
import { grpcAddress } from './grpc-address.js';
import { type OipGrpcDeps, oipGrpcHandlers } from './oip-grpc-handlers.js';
import { tfModelServiceHandlers, tfPredictionHandlers } from './tfserving-grpc-handlers.js';

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port; `start` says which. */
  readonly port: number;
  /**
   * Largest request message received, in bytes (gRPC's own default is 4 MiB; `serve` defaults
   * to 64 MiB, as `--max-body`). Answers are not bounded, as HTTP answers are not: a model's
   * output is what the model makes, not what a client sends.
   */
  readonly maxMessageBytes: number;
  /** Serve gRPC over TLS with these certificates (reloaded when their files change). */
  readonly tls?: ServerCertificates | undefined;
  /**
   * Streams on its HTTP/2 connections that are not gRPC (no `application/grpc` content type):
   * REST over h2c on `serve --port`. Without it they get 415, as grpc-js answers them.
   */
  readonly otherStreams?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
}

/** The grpc-js method that turns away non-gRPC streams (grpc-js 1.14; see `GrpcServer`). */
type ContentTypeCheck = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

/**
 * TLS credentials fed by the same certificates as the HTTP listener. grpc-js 1.14's
 * `createCertificateProviderServerCredentials(ca, identity, …)` hands its first argument to the
 * constructor's identity slot and the second to the CA slot (the declared names are swapped), so
 * the identity provider goes first and the CA provider (client certificates: mTLS) second.
 */
function credentialsFor(tls: ServerCertificates | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const provider = new CertificatesProvider(tls);
  const mtls = tls.requiresClientCertificate;
  return experimental.createCertificateProviderServerCredentials(provider, mtls ? provider : null, mtls);
}

/**
 * The Open Inference Protocol v2 over gRPC (KServe/Triton `inference.GRPCInferenceService`) and
 * TF Serving's gRPC API (`tensorflow.serving.PredictionService` and `ModelService`) on one port,
 * on @grpc/grpc-js. `close` drains: it stops accepting calls and resolves once those in flight are
 * answered.
 */
export class GrpcServer {
  private readonly server: Server;

  constructor(
    private readonly options: GrpcServerOptions,
    deps: OipGrpcDeps,
  ) {
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': -1,
    });
    const service = strictServiceDefinition(
      oipGrpcServiceDefinition(),
      // Message descriptors, for the strict check of every request but ModelInfer's.
      loadOipGrpcDefinition(),
      new Set(['ModelInfer', 'ModelStreamInfer']),
    );
    this.server.addService(service, oipGrpcHandlers(deps));
    // Every TF Serving request is read from its bytes (tfserving-grpc/); Predict answers bytes too.
    const tf = loadTfServingDefinition();
    this.server.addService(
      tfServingServiceDefinition(tf, TF_PREDICTION_SERVICE, new Set(['Predict'])),
      tfPredictionHandlers(deps),
    );
    this.server.addService(
      tfServingServiceDefinition(tf, TF_MODEL_SERVICE, new Set()),
      tfModelServiceHandlers(deps),
    );
    const other = options.otherStreams;
    if (other) {
      // grpc-js has no hook for non-gRPC streams: every stream passes its `_verifyContentType`
      // first, which answers 415 and returns false for them. Taking that check over hands them
      // on instead; the e2e test of REST over h2c fails if a grpc-js update moves it.
      const server = this.server as unknown as { _verifyContentType: ContentTypeCheck };
      const check = server._verifyContentType;
      if (typeof check !== 'function') throw new Error('grpc-js has no _verifyContentType: REST over h2c');
      server._verifyContentType = (stream, headers) => {
        const type = headers['content-type'];
        if (typeof type === 'string' && type.startsWith('application/grpc')) return true;
        other(stream, headers);
        return false;
      };
    }
  }

  /**
   * Serves connections accepted elsewhere (`serve --port`: HTTP/2 ones on the shared port) instead
   * of binding a port of its own; `close` drains them as it drains bound ones.
   */
  injector(): (socket: Socket) => void {
    const injector = this.server.createConnectionInjector(credentialsFor(this.options.tls));
    return (socket) => injector.injectConnection(socket);
  }

  /** Binds and starts serving; resolves with the port bound. */
  start(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(
        grpcAddress(this.options.host, this.options.port),
        credentialsFor(this.options.tls),
        (err, port) => (err ? reject(err) : resolve({ port })),
      );
    });
  }

  /** Stops accepting calls and resolves once every call in flight has been answered. */
  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.server.tryShutdown((err) => (err ? reject(err) : resolve())),
    );
  }
}
