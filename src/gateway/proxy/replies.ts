import type { ServerResponse } from 'node:http';
import { type FlotillaError, UnavailableError } from '../../core/index.js';

/**
 * Answers with a Flotilla error as the model server does (`{"error", "code"}` with the status of
 * its code), plus the gateway's headers naming what was chosen so far.
 */
export function sendError(
  res: ServerResponse,
  err: FlotillaError,
  service?: string,
  variant?: string,
  replica?: string,
  closeConnection = false,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: err.message, code: err.code });
  const headers: string[] = [
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(body)),
  ];
  if (service !== undefined) headers.push('x-flotilla-service', service);
  if (variant !== undefined) headers.push('x-flotilla-variant', variant);
  if (replica !== undefined) headers.push('x-flotilla-replica', replica);
  if (closeConnection) headers.push('connection', 'close');
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) headers.push('retry-after', retryAfter);
  res.writeHead(err.httpStatus, headers);
  res.end(body);
}

/** A JSON answer (admin API, the gateway's own health endpoints). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The `Retry-After` value of an error that carries one (the activator's 503s). */
export function retryAfterOf(err: FlotillaError): string | undefined {
  return err instanceof UnavailableError && err.retryAfterS !== undefined
    ? String(Math.max(0, Math.ceil(err.retryAfterS)))
    : undefined;
}
