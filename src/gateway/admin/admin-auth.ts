import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AccessDeniedError } from '../../core/index.js';

/**
 * Guards the gateway's admin API with a bearer token, as the model server guards its repository
 * API: with no token configured it is refused (403), never open, since it can move all traffic.
 */
export function checkAdminToken(headers: IncomingHttpHeaders, token: string | undefined): void {
  if (token === undefined || token === '') {
    throw new AccessDeniedError(
      'FLT_ADMIN_DISABLED',
      'the admin API is disabled: start the gateway with --admin-token or FLOTILLA_ADMIN_TOKEN',
    );
  }
  const auth = headers.authorization ?? '';
  const given = Buffer.from(auth.startsWith('Bearer ') ? auth.slice(7) : '');
  const want = Buffer.from(token);
  if (given.byteLength !== want.byteLength || !timingSafeEqual(given, want)) {
    throw new AccessDeniedError(
      'FLT_UNAUTHENTICATED',
      'Authorization: a valid "Bearer <admin token>" header is required',
    );
  }
}
