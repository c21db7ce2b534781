import type { Socket } from 'node:net';
import type { FlotillaError } from '../../core/index.js';
import { responseHead } from './response-head.js';

/** How long a refused connection keeps reading (and dropping) what the client still sends. */
const LINGER_MS = 2_000;

/**
 * Answers a request the server will not read any further (400 bad head, 408 too slow, 413 too
 * large, 503 overloaded) with `{"error", "code"}` and `connection: close`, then closes. Bytes that
 * still arrive are read and dropped for a moment (nginx's lingering close): closing a socket with
 * unread bytes sends a reset, which can make the client lose the answer it is about to read.
 */
export function refuse(socket: Socket, err: FlotillaError, headers?: Readonly<Record<string, string>>): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: err.message, code: err.code });
  const head = responseHead(
    err.httpStatus,
    { 'content-type': 'application/json', ...headers },
    Buffer.byteLength(body),
    true,
  );
  socket.removeAllListeners('data');
  socket.on('data', drop);
  socket.on('error', drop);
  socket.resume();
  socket.end(head + body);
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

function drop(): void {}
