import {
  type ClientHttp2Session,
  connect,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Random } from '../../core/index.js';
import {
  asFlotillaError,
  type Clock,
  InvalidRequestError,
  NotFoundError,
  UnavailableError,
} from '../../core/index.js';
import { hash32, splitTraffic } from '../../lb/index.js';
import { WIRE, WireReader } from '../../protocol/oip-grpc/index.js';
import { formatAddress } from '../../spec/index.js';
import { connectOptions, contextOptions, type ServerCertificates } from '../../tls/index.js';
import { hostname, type RoutingTable } from '../routing/routing-table.js';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import type { ServiceRuntime } from '../runtime/service-runtime.js';
import {
  allStatisticsRefused,
  encodeRepositoryIndex,
  encodeServerMetadata,
  guardedIndex,
  indexRequestReadyOnly,
  repositoryChangeRefused,
} from '../server-calls.js';
import { GrpcCall, type GrpcCallContext } from './grpc-call.js';
import {
  firstMessageLength,
  MessageRenamer,
  quotedModelName,
  readModelName,
  readTfModelName,
  rewriteModelName,
  rewriteTfModelName,
  TF_SERVING_PATH_PREFIX,
} from './grpc-message.js';
import { replyMessage, sendStatus } from './grpc-reply.js';

/** Largest gRPC request the front holds before routing it: 64 MiB, as `serve --grpc-max-message`. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 ** 2;

/** What the gRPC front needs from the gateway. */
export interface GrpcFrontDeps {
  readonly clock: Clock;
  readonly random: Random;
  table(): RoutingTable<ServiceRuntime>;
  draining(): boolean;
  /** Readiness as the HTTP `/v2/health/ready` answers it. */
  ready(): boolean;
  retried(service: string): void;
  /** Largest request message held (default DEFAULT_MAX_MESSAGE_BYTES); larger: RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes?: number;
  /** Listen over TLS (gRPC with TLS, h2) with these certificates, reloaded when their files change. */
  readonly tls?: ServerCertificates | undefined;
  /** The admin token guarding RepositoryIndex, as it guards the HTTP index. */
  readonly adminToken?: string | undefined;
}

/** The OIP service's method path prefix. */
const OIP_PATH_PREFIX = '/inference.GRPCInferenceService/';

/** The OIP calls that name no model (or act on one server): answered by the gateway itself. */
const GATEWAY_CALLS = new Set([
  'ServerMetadata',
  'RepositoryIndex',
  'RepositoryModelLoad',
  'RepositoryModelUnload',
]);

/**
 * The model a repository load/unload request names, quoted for messages: `model_name` (field 2),
 * or `repository_name` (field 1) where KServe's client puts it, as the server reads it.
 */
function repositoryModelName(message: Uint8Array): string {
  const r = new WireReader(message, 0, message.length, 'repository request');
  const fields: string[] = ['', ''];
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    if ((field === 1 || field === 2) && (tag & 7) === WIRE.LEN) fields[field - 1] = r.string(field, 'a name');
    else r.skip(tag & 7, field);
  }
  return quotedModelName(fields[1] || fields[0]!);
}

/** An HTTP/2 TLS listener that takes every certificate reload. */
function secureServer(tls: ServerCertificates): Http2SecureServer {
  const server = createSecureServer(tls.serverOptions());
  server.once(
    'close',
    tls.onChange((m) => server.setSecureContext(contextOptions(m))),
  );
  return server;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * gRPC passthrough (HTTP/2 cleartext) for `inference.GRPCInferenceService` and TF Serving's
 * `tensorflow.serving.*` services: routes a call by its `:authority` or the model name in its
 * request message (TF Serving's in `model_spec`), picks variant and replica as the HTTP
 * data plane does, rewrites the model name when the variant's differs, and relays frames, headers
 * and trailers untouched. Each call runs the HTTP data paths' lifecycle (GrpcCall): timeouts, retries
 * within the budget, and the variant's and replicas' accounting.
 * `ServerLive`/`ServerReady` are answered by the gateway itself.
 */
export class GrpcFront implements GrpcCallContext {
  private readonly server: Http2Server | Http2SecureServer;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly upstream = new Map<string, ClientHttp2Session>();

  constructor(private readonly deps: GrpcFrontDeps) {
    this.server = deps.tls ? secureServer(deps.tls) : createServer();
    this.server.on('session', (s) => {
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
    });
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Stops taking calls (GOAWAY), lets calls in flight finish, then closes upstream sessions. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.close();
    await closed;
    for (const s of this.upstream.values()) s.close();
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const path = headers[':path'] ?? '';
    const method = path.slice(path.lastIndexOf('/') + 1);
    const chunks: Buffer[] = [];
    let routed = false;
    const route = (body: Buffer, ended: boolean): void => {
      routed = true;
      try {
        if (method === 'ServerLive' || method === 'ServerReady') {
          const ok = method === 'ServerLive' ? !this.deps.draining() : this.deps.ready();
          replyMessage(stream, ok ? Uint8Array.of(0x08, 0x01) : new Uint8Array(0));
          return;
        }
        // Server-level calls name no model: the gateway's own, unless the authority routes them.
        if (path.startsWith(OIP_PATH_PREFIX) && GATEWAY_CALLS.has(method) && !this.routedByHost(headers)) {
          this.answer(stream, headers, method, body);
          return;
        }
        this.proxy(stream, headers, path, method, body, ended);
      } catch (err) {
        sendStatus(stream, asFlotillaError(err));
      }
    };
    let buffered = 0;
    const limit = this.deps.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    stream.on('data', (c: Buffer) => {
      if (routed) return;
      chunks.push(c);
      buffered += c.length;
      // A unary call is held whole before it is routed: bounded as the replicas bound it.
      if (buffered > limit + 5) {
        routed = true;
        sendStatus(
          stream,
          new InvalidRequestError('FLT_BODY_TOO_LARGE', `gRPC request larger than ${limit} bytes`),
        );
        chunks.length = 0;
        return;
      }
      // A streaming call is routed by its first message; a unary one once the client is done.
      if (method === 'ModelStreamInfer') {
        const body = Buffer.concat(chunks);
        if (firstMessageLength(body) !== undefined) {
          stream.pause();
          route(body, false);
        }
      }
    });
    stream.once('end', () => {
      if (!routed) route(Buffer.concat(chunks), true);
    });
    stream.on('error', () => {});
  }

  private routedByHost(headers: IncomingHttpHeaders): boolean {
    const authority = headers[':authority'];
    return authority !== undefined && this.deps.table().route(hostname(authority), '/')?.by === 'host';
  }

  /** ServerMetadata, RepositoryIndex and the refused repository changes (server-calls.ts). */
  private answer(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    method: string,
    body: Buffer,
  ): void {
    if (method === 'ServerMetadata') {
      replyMessage(stream, encodeServerMetadata());
      return;
    }
    const total = firstMessageLength(body);
    if (total === undefined || body[0] !== 0) {
      throw new InvalidRequestError('FLT_INVALID_PROTOBUF', `${method}: expected one uncompressed message`);
    }
    const message = body.subarray(5, total);
    if (method === 'RepositoryIndex') {
      const entries = guardedIndex(
        headers.authorization,
        this.deps.adminToken,
        this.deps.table().services,
        indexRequestReadyOnly(message),
      );
      replyMessage(stream, encodeRepositoryIndex(entries));
      return;
    }
    throw repositoryChangeRefused(
      method === 'RepositoryModelLoad' ? 'load' : 'unload',
      repositoryModelName(message),
    );
  }

  private proxy(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    path: string,
    method: string,
    body: Buffer,
    ended: boolean,
  ): void {
    const table = this.deps.table();
    // TF Serving's calls name their model in model_spec, OIP's Model* calls in field 1.
    const tf = path.startsWith(TF_SERVING_PATH_PREFIX);
    const name = tf ? readTfModelName(body) : method.startsWith('Model') ? readModelName(body) : undefined;
    const authority = headers[':authority'];
    const byHost = authority !== undefined ? table.route(hostname(authority), '/') : undefined;
    if (method === 'ModelStatistics' && !name && byHost?.by !== 'host') throw allStatisticsRefused();
    const service =
      (byHost?.by === 'host' ? byHost.service : undefined) ??
      (name !== undefined ? table.get(name) : undefined) ??
      (table.services.length === 1 ? table.services[0] : undefined);
    if (!service) {
      throw new NotFoundError(
        'FLT_SERVICE_NOT_FOUND',
        `no service routes ${method}${name ? ` for model ${quotedModelName(name)}` : ''}; known services: ${table.names().join(', ')}`,
      );
    }
    const key = first(headers['x-flotilla-key']);
    const split = splitTraffic(
      service.variants,
      {
        forcedTag: first(headers['x-flotilla-variant']),
        keyHash: key === undefined ? undefined : hash32(key),
      },
      this.deps.random,
    );
    if (split.kind === 'unknown-tag') {
      throw new NotFoundError('FLT_VARIANT_NOT_FOUND', `service ${service.name} has no variant ${split.tag}`);
    }
    if (split.kind === 'no-weight')
      throw new UnavailableError('FLT_NO_REPLICA', `service ${service.name}: every variant has weight 0`);
    const variant = split.variant;
    const target = variant.spec.modelName;
    const rewrite = tf ? rewriteTfModelName : rewriteModelName;
    const renamed = name === service.name && target !== name;
    if (!renamed || ended) {
      const payload = renamed ? rewrite(body, target) : body;
      new GrpcCall({ ctx: this, stream, headers, path, service, variant, payload, unary: ended }).admit();
      return;
    }
    // A stream names the service in every message, not only in the first one routed by.
    const renamer = new MessageRenamer(
      (message) => rewrite(message, target),
      this.deps.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    );
    const payload = renamer.renameWhole(body);
    const rest = stream.pipe(renamer);
    renamer.on('error', (err) => sendStatus(stream, asFlotillaError(err)));
    new GrpcCall({ ctx: this, stream, headers, path, service, variant, payload, unary: false, rest }).admit();
  }

  /** The HTTP/2 session to a replica's gRPC address (one per replica, reconnected when it drops). */
  session(replica: ReplicaRuntime): ClientHttp2Session | undefined {
    const grpc = replica.address.grpc;
    if (!grpc) return undefined;
    const id = formatAddress(grpc);
    let s = this.upstream.get(id);
    if (!s || s.closed || s.destroyed) {
      const tls = replica.address.tls;
      // TLS to the replica: http2.connect negotiates h2 by ALPN itself, so only the trust settings pass.
      s = tls
        ? connect(`https://${id}`, { ...connectOptions(tls, grpc.host), ALPNProtocols: ['h2'] })
        : connect(`http://${id}`);
      const current = s;
      s.on('error', () => {});
      s.once('close', () => {
        if (this.upstream.get(id) === current) this.upstream.delete(id);
      });
      this.upstream.set(id, s);
    }
    return s;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  retried(service: string): void {
    this.deps.retried(service);
  }
}
