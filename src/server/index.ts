export * from './backends/index.js';
export * from './drain.js';
export * from './grpc/grpc-address.js';
export type { GrpcServer, GrpcServerOptions } from './grpc/grpc-server.js';
export type { OipGrpcDeps } from './grpc/oip-grpc-handlers.js';
export * from './heap-tuning.js';
export * from './http/body-limit.js';
export * from './http/http-server.js';
export * from './http/oip-routes.js';
export * from './http/paddle-routes.js';
export * from './http/router.js';
export * from './http/tfserving-routes.js';
export * from './inference-service.js';
export * from './metrics/model-metrics.js';
export * from './repository/model-manager.js';
export * from './repository/model-name.js';
export * from './repository/poller.js';
export * from './repository/scan.js';
export * from './repository/version-policy.js';
export * from './request-bounds.js';
export * from './single-port.js';
export * from './validate-request.js';

/**
 * The gRPC front end, imported when asked for: @grpc/grpc-js and the proto take ~60 ms to load,
 * which a replica starting from zero spends loading its model instead.
 */
export async function loadGrpcServer(): Promise<typeof import('./grpc/grpc-server.js').GrpcServer> {
  return (await import('./grpc/grpc-server.js')).GrpcServer;
}
export * from './cluster/process-group.js';
export * from './cluster/replica-handshake.js';
