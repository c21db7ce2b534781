import type { Server } from 'node:http';
import { READ_DEADLINE_DEFAULTS, type ReadDeadlines, sweepIntervalMs } from './read-deadlines.js';
import { REQUEST_MEMORY_DEFAULT_BYTES } from './request-memory.js';

/** What bounds a client connection's time and memory, on both paths. */
export interface ConnectionLimits extends ReadDeadlines {
  /** The most bytes of unfinished requests held over all connections (RequestMemory). */
  readonly requestMemoryBytes: number;
}

/** The defaults of ConnectionLimits, in one place (see READ_DEADLINE_DEFAULTS for the reasons). */
export const CONNECTION_LIMIT_DEFAULTS: ConnectionLimits = Object.freeze({
  ...READ_DEADLINE_DEFAULTS,
  requestMemoryBytes: REQUEST_MEMORY_DEFAULT_BYTES,
});

/** Total time node:http gives a request on the fallback path (its own default, 300 s). */
const FALLBACK_REQUEST_TIMEOUT_MS = 300_000;

/**
 * Applies the header deadline to a node:http server fed handed-over sockets. node:http checks its
 * `headersTimeout`/`requestTimeout` only on connections it tracks, and starts tracking on
 * 'listening' — which a server that never listens itself never emits, so until now the fallback
 * path had no header deadline at all. Emitting it starts the tracking (and makes
 * closeAllConnections/closeIdleConnections see the handed-over connections).
 */
export function applyFallbackDeadlines(server: Server, limits: ReadDeadlines): void {
  server.headersTimeout = limits.headerTimeoutMs;
  server.requestTimeout = Math.max(FALLBACK_REQUEST_TIMEOUT_MS, limits.headerTimeoutMs);
  // Read by node:http when tracking starts; not in @types/node as a property.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    sweepIntervalMs(limits);
  server.emit('listening');
}

/**
 * What RFC 9112 refuses and llhttp lets through, read from node:http's raw header list: more than
 * one Host line (llhttp joins nothing and keeps both; routing by one while a backend reads the
 * other is request smuggling). Undefined when the head is fine.
 */
export function rawHeadProblem(rawHeaders: readonly string[]): string | undefined {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1)
      return 'more than one Host line (RFC 9112 §3.2)';
  }
  return undefined;
}
