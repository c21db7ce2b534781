/**
 * How the gateway reads a gRPC answer for its books: which statuses are the replica's fault (the
 * gRPC twin of HTTP's `status >= 500`), the HTTP status a try's outcome is reported with, and the
 * client's `grpc-timeout` header.
 */
import { GRPC_STATUS } from '../../core/index.js';

/** gRPC statuses the core catalogue has no name for (grpc's status.proto numbers). */
const UNKNOWN = 2;
const DATA_LOSS = 15;

/**
 * Statuses that count as a failed request (variant errors, replica errors, a canary's error rate).
 * Mirrors HTTP's `status >= 500`: these are the statuses Flotilla's catalogue and gRPC's HTTP
 * mapping put at 5xx (INTERNAL 500, UNAVAILABLE 502/503, DEADLINE_EXCEEDED 503/504, UNKNOWN and
 * DATA_LOSS 500). UNIMPLEMENTED is left out although gRPC maps it to 501: Flotilla answers it for
 * a route or method that does not exist (404/405), the caller's mistake, not the replica's.
 */
const SERVER_FAULTS: ReadonlySet<number> = new Set([
  UNKNOWN,
  GRPC_STATUS.DEADLINE_EXCEEDED,
  GRPC_STATUS.INTERNAL,
  GRPC_STATUS.UNAVAILABLE,
  DATA_LOSS,
]);

/**
 * A `grpc-status` header value as a number; a missing or malformed one is UNKNOWN (gRPC's own
 * rule for a response without a valid status).
 */
export function grpcStatusOf(value: string | string[] | undefined): number {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && /^\d{1,2}$/.test(v) ? Number(v) : UNKNOWN;
}

/** Whether a gRPC status is the replica's fault (counts as a failed request). */
export function isServerFault(status: number): boolean {
  return SERVER_FAULTS.has(status);
}

/**
 * The HTTP status a gRPC try is reported with to the balancer, outlier detection and the retry
 * policy: UNAVAILABLE is 503 (retried on another replica, as HTTP's 503), DEADLINE_EXCEEDED 504,
 * the other faults 500, OK 200 and the caller's mistakes 400.
 */
export function outcomeStatus(status: number): number {
  if (status === 0) return 200;
  if (status === GRPC_STATUS.UNAVAILABLE) return 503;
  if (status === GRPC_STATUS.DEADLINE_EXCEEDED) return 504;
  return isServerFault(status) ? 500 : 400;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/**
 * The client's `grpc-timeout` in milliseconds (gRPC's format: at most 8 digits and a unit, H M S
 * m u n); undefined when absent or malformed (a malformed one is ignored: the service's own
 * timeouts still bound the call).
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const m = v === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(v);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** A `grpc-timeout` header value for `ms` milliseconds (rounded up, at least 1 m). */
export function formatGrpcTimeout(ms: number): string {
  return `${Math.max(1, Math.ceil(ms))}m`;
}
