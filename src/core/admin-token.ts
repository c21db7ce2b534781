import { createHash, timingSafeEqual } from 'node:crypto';
import { AccessDeniedError } from './errors.js';

/** Who guards its admin surface with the token (named in the "disabled" message). */
export type AdminTokenOwner = 'server' | 'gateway';

/**
 * The token of an `Authorization` value: the `Bearer` scheme matched case-insensitively, as
 * RFC 7235 §2.1 asks of auth-schemes, then one or more spaces (RFC 6750 §2.1); undefined for any
 * other scheme or shape.
 */
export function bearerToken(authorization: string | readonly string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = BEARER.exec(authorization);
  return match ? match[1] : undefined;
}

const BEARER = /^bearer +(\S+) *$/i;

/** A fixed-length digest: comparing digests takes the same time whatever the lengths given. */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The one admin token check of the server's repository API (HTTP and gRPC) and the gateway's
 * admin API. With no token configured the surface is refused (403), never open: an unguarded
 * load/unload or weight change is a remote way to stop serving. The given and expected tokens
 * are compared as SHA-256 digests with `timingSafeEqual`, so neither the token's content nor its
 * length shows in the time a refusal takes.
 */
export function checkAdminToken(
  authorization: string | readonly string[] | undefined,
  token: string | undefined,
  owner: AdminTokenOwner,
): void {
  if (token === undefined || token === '') {
    const what = owner === 'server' ? 'admin endpoints are' : 'the admin API is';
    throw new AccessDeniedError(
      'FLT_ADMIN_DISABLED',
      `${what} disabled: start the ${owner} with --admin-token or FLOTILLA_ADMIN_TOKEN`,
    );
  }
  const given = bearerToken(authorization);
  // The digest is computed even without a token, so a malformed header costs the same time.
  const same = timingSafeEqual(digest(given ?? ''), digest(token));
  if (given === undefined || !same) {
    throw new AccessDeniedError(
      'FLT_UNAUTHENTICATED',
      'Authorization: a valid "Bearer <admin token>" header is required',
    );
  }
}
