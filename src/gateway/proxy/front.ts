import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Random } from '../../core/index.js';
import { NotFoundError, UnavailableError } from '../../core/index.js';
import { hash32, shouldMirror, splitTraffic } from '../../lb/index.js';
import { originForm, type RequestMemory } from '../../protocol/http1/index.js';
import { rewriteModel } from '../routing/protocol-paths.js';
import type { RouteMatch, RoutingTable } from '../routing/routing-table.js';
import type { ServiceRuntime } from '../runtime/service-runtime.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';
import type { ProxyContext } from './context.js';
import { headerValue, upstreamRequestHeaders } from './headers.js';
import { mirrorRequest } from './mirror-call.js';
import { ProxyCall } from './proxy-call.js';
import { sendError } from './replies.js';

/** Headers a client uses to steer the variant choice. */
export const VARIANT_HEADER = 'x-flotilla-variant';
export const KEY_HEADER = 'x-flotilla-key';

/** What the data plane's request handler needs. */
export interface FrontDeps {
  readonly ctx: ProxyContext;
  readonly random: Random;
  /** The current routing table (swapped whole by a reload). */
  table(): RoutingTable<ServiceRuntime>;
  /**
   * Bodies up to this size are read before the first try, so a retry or a mirror can send them
   * again; larger ones are streamed straight through and are not retried.
   */
  readonly maxBufferBytes: number;
  /** Unfinished request bytes over all connections: the bodies buffered here count too. */
  readonly memory: RequestMemory;
  /** Requests the gateway answers itself when no service matches (health); true when handled. */
  own(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/**
 * The data plane: route by Host and path, choose a variant (forced, sticky or weighted), rewrite the
 * model name, read small bodies, then hand the request to a ProxyCall. Nothing here parses a body.
 */
export function createFrontHandler(deps: FrontDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const startedAt = deps.ctx.clock.now();
    // Absolute-form (`POST http://host/v2/… HTTP/1.1`) must be accepted (RFC 9112 §3.2.2): routed
    // by its path, and sent upstream in origin-form with the Host header the client sent.
    const url = originForm(req.url ?? '/');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const table = deps.table();
    const match = table.route(req.headers.host, path);
    if (!match) {
      if (deps.own(req, res, path)) return;
      const known = table.names();
      sendError(
        res,
        new NotFoundError(
          'FLT_SERVICE_NOT_FOUND',
          `no service routes ${req.method} ${path}; known services: ${known.join(', ') || '(none)'}`,
        ),
      );
      return;
    }
    const service = match.service;
    const forced = headerValue(req.headers[VARIANT_HEADER]);
    const key = headerValue(req.headers[KEY_HEADER]);
    const split = splitTraffic(
      service.variants,
      { forcedTag: forced, keyHash: key === undefined ? undefined : hash32(key) },
      deps.random,
    );
    if (split.kind !== 'variant') {
      const err =
        split.kind === 'unknown-tag'
          ? new NotFoundError(
              'FLT_VARIANT_NOT_FOUND',
              `${VARIANT_HEADER}: service ${service.name} has no variant ${split.tag}; variants: ${service.variants.map((v) => v.tag).join(', ')}`,
            )
          : new UnavailableError('FLT_NO_REPLICA', `service ${service.name}: every variant has weight 0`);
      sendError(res, err, service.name);
      return;
    }
    const variant = split.variant;
    const upstreamPath = pathFor(match, variant) + (q < 0 ? '' : url.slice(q));
    const headers = upstreamRequestHeaders(req.rawHeaders);
    const go = (body: Buffer | null | IncomingMessage): void => {
      const mirror = service.spec.mirror;
      if (mirror && mirror.variant !== variant.tag && (body === null || Buffer.isBuffer(body))) {
        const target = service.variant(mirror.variant);
        if (target && shouldMirror(mirror.percent, deps.random)) {
          mirrorRequest(
            target,
            {
              method: req.method ?? 'GET',
              path: pathFor(match, target) + (q < 0 ? '' : url.slice(q)),
              headers,
              body,
              timeoutMs: service.spec.timeouts.perTryMs,
            },
            deps.ctx.clock,
          );
        }
      }
      new ProxyCall(deps.ctx, req, res, service, variant, upstreamPath, headers, body, startedAt).start();
    };
    readBody(req, deps.maxBufferBytes, deps.memory, go, () =>
      sendError(
        res,
        new UnavailableError(
          'FLT_OVERLOADED',
          `unfinished requests hold more than ${deps.memory.limitBytes} bytes (--max-request-memory)`,
          { retryAfterS: 1 },
        ),
        service.name,
        undefined,
        undefined,
        true,
      ),
    );
  };
}

/** The path to send to a variant's replicas: the service's name replaced by the variant's model. */
export function pathFor(match: RouteMatch<ServiceRuntime>, variant: VariantRuntime): string {
  const seg = match.model;
  const { modelName, modelVersion } = variant.spec;
  if (!seg || (modelName === seg.name && modelVersion === undefined)) return match.path;
  return rewriteModel(match.path, seg, modelName, modelVersion);
}

/**
 * Reads a body of known, small size into one Buffer (null when there is none); hands larger or
 * chunked bodies on as the stream itself.
 */
function readBody(
  req: IncomingMessage,
  max: number,
  memory: RequestMemory,
  then: (body: Buffer | null | IncomingMessage) => void,
  overloaded: () => void,
): void {
  const cl = req.headers['content-length'];
  if (cl === undefined) {
    then(req.headers['transfer-encoding'] === undefined ? null : req);
    return;
  }
  const size = Number(cl);
  if (!(size <= max)) {
    then(req);
    return;
  }
  if (size === 0) {
    req.resume();
    then(null);
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let held = 0;
  const release = (): void => {
    memory.release(held);
    held = 0;
  };
  req.on('data', (c: Buffer) => {
    held += c.length;
    if (!memory.add(c.length)) {
      release();
      req.removeAllListeners('data');
      req.removeAllListeners('end');
      req.resume();
      overloaded();
      return;
    }
    if (first === undefined) first = c;
    else {
      chunks ??= [first];
      chunks.push(c);
    }
  });
  req.once('close', release);
  req.once('end', () => {
    release();
    then(chunks ? Buffer.concat(chunks) : (first ?? null));
  });
}
