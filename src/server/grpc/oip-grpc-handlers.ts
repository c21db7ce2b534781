import {
  type handleUnaryCall,
  Metadata,
  type ServerDuplexStream,
  type status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  asFlotillaError,
  checkAdminToken,
  type Logger,
  type TensorSpec,
  UnavailableError,
} from '../../core/index.js';
import {
  type ModelInferResponseMessage,
  type ModelMetadataResponseMessage,
  type ModelRefMessage,
  RejectedMessage,
  type RepositoryIndexRequestMessage,
  type RepositoryIndexResponseMessage,
  type RepositoryModelLoadResponseMessage,
  type RepositoryModelRequestMessage,
  type RepositoryModelUnloadResponseMessage,
  repositoryModelName,
  type ServerMetadataResponseMessage,
  type TensorMetadataMessage,
  truncateDetails,
} from '../../protocol/oip-grpc/index.js';
import { EXTENSIONS, type RepositoryControl } from '../http/oip-routes.js';
import type { InferenceService } from '../inference-service.js';
import type { ModelMetrics } from '../metrics/model-metrics.js';
import { modelStatistics } from '../model-statistics.js';
import type { ModelManager } from '../repository/model-manager.js';
import { tritonModelConfig } from '../triton-config.js';
import { modelInfer } from './model-infer.js';

/** What the gRPC handlers call: the same parts the REST routes call. */
export interface OipGrpcDeps {
  readonly manager: ModelManager;
  readonly service: InferenceService;
  /** This process's counts, for ModelStatistics. */
  readonly metrics: ModelMetrics;
  readonly adminToken: string | undefined;
  /** Server version for ServerMetadata. */
  readonly serverVersion: string;
  /** False once the server is draining. */
  readonly accepting: () => boolean;
  readonly logger: Logger;
  /** Loads and unloads for the repository RPCs; default the manager (one process). */
  readonly repository?: RepositoryControl;
}

/** Trailing metadata key carrying the Flotilla error code, so gRPC clients can branch on codes too. */
export const ERROR_CODE_METADATA = 'flotilla-error-code';

/**
 * A unary handler around a plain async function: a thrown error becomes the gRPC status of its
 * catalogue code, with the same message REST sends (cut past MAX_DETAILS_CHARS), and its
 * code in trailing metadata. A request the strict deserializer refused throws its error here.
 * The TF Serving handlers use it too.
 */
export function unary<Req, Res>(
  method: string,
  logger: Logger,
  fn: (request: Req, metadata: Metadata) => Promise<Res> | Res,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    void (async () => {
      let result: Res;
      try {
        if (call.request instanceof RejectedMessage) throw call.request.error;
        result = await fn(call.request, call.metadata);
      } catch (err) {
        const e = asFlotillaError(err);
        if (e.httpStatus >= 500) logger.error('grpc call failed', { method, code: e.code, error: e.message });
        const trailer = new Metadata();
        trailer.set(ERROR_CODE_METADATA, e.code);
        callback({ code: e.grpcStatus as status, details: truncateDetails(e.message), metadata: trailer });
        return;
      }
      // Outside the try: a failure to send must not be answered a second time.
      callback(null, result);
    })();
  };
}

/** Requests of one stream decoded or running at once; past it the stream is paused (backpressure). */
export const STREAM_MAX_PENDING = 32;

/**
 * ModelStreamInfer: every message is a ModelInferRequest read as ModelInfer reads it; answers go
 * out in request order (requests run concurrently, up to STREAM_MAX_PENDING). A request that
 * fails (garbage bytes, unknown model, bad shape) is answered `error_message` with the message
 * ModelInfer's status would carry, and the stream goes on, as Triton's does.
 */
function modelStreamInfer(deps: OipGrpcDeps): (call: ServerDuplexStream<Uint8Array, unknown>) => void {
  const { manager, service, logger } = deps;
  return (call) => {
    let pending = 0;
    let ended = false;
    let closed = false;
    let tail: Promise<void> = Promise.resolve();
    const finishIfDone = (): void => {
      if (!ended || pending > 0 || closed) return;
      closed = true;
      call.end();
    };
    call.on('data', (bytes: Uint8Array) => {
      pending++;
      if (pending >= STREAM_MAX_PENDING) call.pause();
      const answer = (async (): Promise<object> => {
        try {
          if (!deps.accepting())
            throw new UnavailableError('FLT_SHUTTING_DOWN', 'the server is shutting down');
          return { infer_response: await modelInfer({ manager, service }, bytes) };
        } catch (err) {
          const e = asFlotillaError(err);
          if (e.httpStatus >= 500)
            logger.error('grpc stream request failed', {
              method: 'ModelStreamInfer',
              code: e.code,
              error: e.message,
            });
          return { error_message: truncateDetails(e.message) };
        }
      })();
      tail = tail.then(async () => {
        const message = await answer;
        if (!call.cancelled && !call.destroyed) call.write(message);
        pending--;
        if (pending < STREAM_MAX_PENDING && call.isPaused()) call.resume();
        finishIfDone();
      });
    });
    call.on('end', () => {
      ended = true;
      void tail.then(finishIfDone);
    });
    // A client that goes away mid-stream: nothing to answer; the requests in flight finish.
    call.on('error', () => undefined);
  };
}

/** The admin token check of REST, reading `authorization: Bearer <token>` from call metadata. */
function checkAdminMetadata(metadata: Metadata, token: string | undefined): void {
  const value = metadata.get('authorization')[0];
  checkAdminToken(typeof value === 'string' ? value : undefined, token, 'server');
}

const tensorMetadata = (t: TensorSpec): TensorMetadataMessage => ({
  name: t.name,
  datatype: t.datatype,
  shape: [...t.shape],
});

/** An empty version field means "no version" (proto3 cannot tell unset from ''). */
const versionOf = (v: string | undefined): string | undefined => (v ? v : undefined);

/**
 * The `inference.GRPCInferenceService` methods, one for one with the REST routes of
 * oip-routes.ts: same checks in the same order, same errors.
 */
export function oipGrpcHandlers(deps: OipGrpcDeps): UntypedServiceImplementation {
  const { manager, service, logger } = deps;
  const repository = deps.repository ?? manager;
  return {
    ServerLive: unary('ServerLive', logger, () => ({ live: true })),
    ServerReady: unary('ServerReady', logger, () => ({ ready: deps.accepting() && manager.isReady() })),
    // Triton answers OK with ready: false for a model or version it does not have (unknown,
    // unloaded, loading, failed), so clients' "wait until ready" loops keep polling.
    ModelReady: unary('ModelReady', logger, (req: ModelRefMessage) => ({
      ready: manager.modelReadiness(req.name ?? '', versionOf(req.version)).ready,
    })),
    ServerMetadata: unary(
      'ServerMetadata',
      logger,
      (): ServerMetadataResponseMessage => ({
        name: 'flotilla',
        version: deps.serverVersion,
        extensions: EXTENSIONS,
      }),
    ),
    ModelMetadata: unary('ModelMetadata', logger, (req: ModelRefMessage): ModelMetadataResponseMessage => {
      const m = manager.metadata(req.name ?? '', versionOf(req.version));
      return {
        name: m.name,
        versions: m.versions,
        platform: m.platform,
        inputs: m.inputs.map(tensorMetadata),
        outputs: m.outputs.map(tensorMetadata),
      };
    }),
    ModelInfer: unary(
      'ModelInfer',
      logger,
      // The message bytes as received (see strictServiceDefinition): read by modelInfer itself.
      (bytes: Uint8Array): Promise<ModelInferResponseMessage> => {
        if (!deps.accepting()) throw new UnavailableError('FLT_SHUTTING_DOWN', 'the server is shutting down');
        return modelInfer({ manager, service }, bytes);
      },
    ),
    ModelStreamInfer: modelStreamInfer(deps),
    ModelConfig: unary('ModelConfig', logger, (req: ModelRefMessage) => ({
      config: tritonModelConfig(manager.servedConfig(req.name ?? '', versionOf(req.version))),
    })),
    // An empty name asks for every model (Triton's request says so), an empty version every version.
    ModelStatistics: unary('ModelStatistics', logger, (req: ModelRefMessage) =>
      modelStatistics(manager, deps.metrics, req.name ? req.name : undefined, versionOf(req.version)),
    ),
    RepositoryIndex: unary(
      'RepositoryIndex',
      logger,
      async (req: RepositoryIndexRequestMessage, metadata): Promise<RepositoryIndexResponseMessage> => {
        checkAdminMetadata(metadata, deps.adminToken);
        const rows = await manager.index(req.ready === true);
        return {
          models: rows.map((r) => ({
            name: r.name,
            version: r.version ?? '',
            state: r.state,
            reason: r.reason,
          })),
        };
      },
    ),
    RepositoryModelLoad: unary(
      'RepositoryModelLoad',
      logger,
      async (req: RepositoryModelRequestMessage, metadata): Promise<RepositoryModelLoadResponseMessage> => {
        checkAdminMetadata(metadata, deps.adminToken);
        const model = repositoryModelName(req);
        await repository.loadModel(model);
        return { model_name: model, isLoaded: true };
      },
    ),
    RepositoryModelUnload: unary(
      'RepositoryModelUnload',
      logger,
      async (req: RepositoryModelRequestMessage, metadata): Promise<RepositoryModelUnloadResponseMessage> => {
        checkAdminMetadata(metadata, deps.adminToken);
        const model = repositoryModelName(req);
        await repository.unloadModel(model);
        return { model_name: model, isUnloaded: true };
      },
    ),
  };
}
