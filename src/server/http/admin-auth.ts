import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AccessDeniedError } from '../../core/index.js';

/**
 * Guards admin endpoints with a bearer token. With no token configured they are refused (403)
 * rather than open: an unguarded load/unload is a remote way to stop serving.
 */
export function checkAdmin(headers: IncomingHttpHeaders, token: string | undefined): void {
  if (token === undefined || token === '') {
    throw new AccessDeniedError(
      'FLT_ADMIN_DISABLED',
      'admin endpoints are disabled: start the server with --admin-token or FLOTILLA_ADMIN_TOKEN',
    );
  }
  const auth = headers['authorization'] ?? '';
  const given = Buffer.from(auth.startsWith('Bearer ') ? auth.slice(7) : '');
  const want = Buffer.from(token);
  if (given.byteLength !== want.byteLength || !timingSafeEqual(given, want)) {
    throw new AccessDeniedError(
      'FLT_UNAUTHENTICATED',
      'Authorization: a valid "Bearer <admin token>" header is required',
    );
  }
}
