import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { FlotillaError, UnavailableError } from '../../core/index.js';
import type { DeadlineSweeper, ReadProgress, RequestMemory } from '../../protocol/http1/index.js';
import { type BodyLimit, tooLarge } from './fast-connection.js';

/** What bounds one body read on the node:http path. */
export interface NodeBodyLimits {
  /** The most bytes this body may have (413 past it). */
  readonly limit: BodyLimit;
  /** Server-wide bytes of unfinished requests (503 FLT_OVERLOADED past its limit). */
  readonly memory: RequestMemory;
  /** Cuts a body that falls behind the body deadline (408). */
  readonly sweeper: DeadlineSweeper;
  now(): number;
}

/**
 * Reads a request's whole body on the node:http path (chunked bodies, and whatever the fast path
 * handed over) with the same bounds as the fast path: the size limit from the Content-Length
 * before any byte is read, the server-wide request memory, the body deadline; a client that goes
 * away mid-body is FLT_CLIENT_CLOSED (not an internal error).
 */
export function readNodeBody(req: IncomingMessage, limits: NodeBodyLimits): Promise<Buffer> {
  return readStreamBody(req, req.headers, () => req.complete, limits);
}

/**
 * `readNodeBody` for any readable request body: a node:http request, or an HTTP/2 stream (REST
 * over h2c on `serve --port`). `complete` says whether the whole body arrived before a close.
 */
export function readStreamBody(
  req: Readable,
  headers: IncomingHttpHeaders,
  complete: () => boolean,
  limits: NodeBodyLimits,
): Promise<Buffer> {
  const max = limits.limit.bytes;
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge(limits.limit, declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const since = limits.now();
    const watched = {
      readProgress: (): ReadProgress => ({ kind: 'body', since, received: size }),
      overdue: () =>
        fail(
          new FlotillaError(
            'FLT_REQUEST_TIMEOUT',
            'the request body fell behind the body deadline (--body-timeout)',
          ),
        ),
    };
    const fail = (err: FlotillaError): void => {
      if (settled) return;
      done();
      req.removeAllListeners('data');
      req.resume();
      reject(err);
    };
    const done = (): void => {
      settled = true;
      limits.memory.release(size);
      limits.sweeper.delete(watched);
    };
    limits.sweeper.add(watched);
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      const within = limits.memory.add(chunk.byteLength);
      if (size > max) fail(tooLarge(limits.limit, size));
      else if (!within)
        fail(
          new UnavailableError(
            'FLT_OVERLOADED',
            `unfinished requests hold ${limits.memory.held} bytes, over the limit of ${limits.memory.limitBytes} (--max-request-memory)`,
            { retryAfterS: 1 },
          ),
        );
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    const aborted = (): void =>
      fail(
        new FlotillaError(
          'FLT_CLIENT_CLOSED',
          'the client closed the connection before sending the whole body',
        ),
      );
    req.on('error', aborted);
    req.on('close', () => {
      if (!complete()) aborted();
    });
  });
}
