import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { checkAdminToken, FlotillaError } from '../core/index.js';
import { VERSION } from '../core/version.js';
import { WIRE, WireReader } from '../protocol/oip-grpc/index.js';
import type { ServiceRuntime } from './runtime/service-runtime.js';

/**
 * The Open Inference Protocol's server-level calls, answered by the gateway itself on HTTP and
 * gRPC alike: they name no model, so no service can take them, and Triton's and KServe's clients
 * call server metadata before anything else.
 *
 * - Server metadata: the gateway's own name, version and the extensions every request through it
 *   keeps (binary tensor data, classification and model configuration pass through to replicas;
 *   statistics are per replica, so `GET /v2/models/stats` has no one answer here: refused, as
 *   `allStatisticsRefused` says).
 * - Repository index: the services the gateway routes, as models, READY when a variant with
 *   weight has an available replica (what routing would find), behind the gateway's admin token
 *   as a replica's index is behind the server's.
 * - Repository load/unload: refused. They change one server's models, and behind a gateway each
 *   replica has its own; the fleet's way to change what runs is the service file (reload), `flotilla
 *   rollout` and `flotilla scale`.
 */

/** What `GET /v2` and gRPC `ServerMetadata` answer through the gateway. */
export const GATEWAY_METADATA = Object.freeze({
  name: 'flotilla-gateway',
  version: VERSION,
  // What passes through to the replicas whatever the service: per-model paths are routed.
  extensions: Object.freeze(['binary_tensor_data', 'classification', 'model_configuration']),
});

/** One entry of the repository index (OIP's `RepositoryIndexResponse.ModelIndex`). */
export interface IndexEntry {
  readonly name: string;
  readonly state: 'READY' | 'UNAVAILABLE';
  readonly reason: string;
}

/** The services as a repository index, in the service file's order. */
export function serviceIndex(services: readonly ServiceRuntime[], readyOnly: boolean): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const s of services) {
    const routable = s.variants.some((v) => v.weight > 0 && v.replicas.some((r) => r.available));
    if (readyOnly && !routable) continue;
    out.push({
      name: s.name,
      state: routable ? 'READY' : 'UNAVAILABLE',
      reason: routable ? '' : 'no variant with weight has an available replica',
    });
  }
  return out;
}

/** The index, after the gateway's admin token check (throws the check's error). */
export function guardedIndex(
  authorization: string | readonly string[] | undefined,
  adminToken: string | undefined,
  services: readonly ServiceRuntime[],
  readyOnly: boolean,
): IndexEntry[] {
  checkAdminToken(authorization, adminToken, 'gateway');
  return serviceIndex(services, readyOnly);
}

/** The answer to a repository load or unload through the gateway. */
export function repositoryChangeRefused(action: 'load' | 'unload', model: string): FlotillaError {
  return new FlotillaError(
    'FLT_NOT_THROUGH_GATEWAY',
    `repository ${action} of ${model}: each replica behind the gateway has its own repository; call a replica (flotilla serve) directly, or change the service file and reload, or use flotilla rollout / flotilla scale`,
  );
}

/**
 * The answer to statistics of every model (`GET /v2/models/stats`, gRPC `ModelStatistics` with no
 * name) through the gateway: each replica counts its own calls, so no one replica's answer is the
 * fleet's, and the gateway does not add them up. One service's statistics go through to the
 * replica the call is routed to, as any per-model call does.
 */
export function allStatisticsRefused(): FlotillaError {
  return new FlotillaError(
    'FLT_NOT_THROUGH_GATEWAY',
    "statistics of every model: each replica behind the gateway counts its own calls; ask for one service's (/v2/models/{service}/stats, answered by the replica it is routed to), call a replica (flotilla serve) directly, or read the gateway's /metrics",
  );
}

/** `inference.ServerMetadataResponse` (name = 1, version = 2, extensions = 3) as protobuf. */
export function encodeServerMetadata(): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).string(GATEWAY_METADATA.name);
  w.tag(2, 2).string(GATEWAY_METADATA.version);
  for (const e of GATEWAY_METADATA.extensions) w.tag(3, 2).string(e);
  return w.finish();
}

/**
 * `inference.RepositoryIndexResponse` (models = 1) of `ModelIndex` (name = 1, version = 2,
 * state = 3, reason = 4) as protobuf; an empty version, as the services have none of their own.
 */
export function encodeRepositoryIndex(entries: readonly IndexEntry[]): Uint8Array {
  const w = new BinaryWriter();
  for (const e of entries) {
    w.tag(1, 2).fork();
    w.tag(1, 2).string(e.name);
    w.tag(3, 2).string(e.state);
    if (e.reason !== '') w.tag(4, 2).string(e.reason);
    w.join();
  }
  return w.finish();
}

/**
 * `inference.RepositoryIndexRequest.ready` (field 2, bool) of a complete protobuf message, read as
 * strictly as a replica reads it (a malformed message is `FLT_INVALID_PROTOBUF`).
 */
export function indexRequestReadyOnly(message: Uint8Array): boolean {
  const r = new WireReader(message, 0, message.length, 'RepositoryIndexRequest');
  let ready = false;
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === 2 && (tag & 7) === WIRE.VARINT) ready = r.varint() !== 0;
    else r.skip(tag & 7, tag >>> 3);
  }
  return ready;
}
