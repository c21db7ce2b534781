import { STATUS_CODES } from 'node:http';
import type { FlotillaError } from '../../core/index.js';
import { retryAfterOf } from '../proxy/replies.js';

/**
 * A complete HTTP/1.1 error answer as bytes, as the node:http path would send it:
 * `{"error", "code"}` with the status of the code, plus the gateway's headers chosen so far.
 */
export function errorResponse(
  err: FlotillaError,
  service: string | undefined,
  variant: string | undefined,
  replica: string | undefined,
  close: boolean,
): Buffer {
  const body = JSON.stringify({ error: err.message, code: err.code });
  let head = `HTTP/1.1 ${err.httpStatus} ${STATUS_CODES[err.httpStatus] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
  if (service !== undefined) head += `x-flotilla-service: ${service}\r\n`;
  if (variant !== undefined) head += `x-flotilla-variant: ${variant}\r\n`;
  if (replica !== undefined) head += `x-flotilla-replica: ${replica}\r\n`;
  if (close) head += 'connection: close\r\n';
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) head += `retry-after: ${retryAfter}\r\n`;
  return Buffer.from(`${head}\r\n${body}`);
}
