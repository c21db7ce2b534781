import type { Outcome } from '../../lb/index.js';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import type { ServiceRuntime } from '../runtime/service-runtime.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';

/** Marks a try abandoned by the gateway itself (overall timeout, client gone). */
export class TryAbandoned extends Error {
  constructor(readonly reason: 'timeout' | 'cancelled') {
    super(reason === 'timeout' ? 'overall timeout' : 'client went away');
  }
}

/** How an undici error ends a try: refused (nothing sent), reset (maybe processed) or timeout. */
export function classify(err: Error, latencyMs: number): Outcome {
  if (err instanceof TryAbandoned) return { kind: err.reason, latencyMs };
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
      return { kind: 'connect-error', latencyMs };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { kind: 'timeout', latencyMs };
    default:
      return { kind: 'reset', latencyMs };
  }
}

/**
 * Reports one try's outcome, the same on every transport: to the balancer (least-request and
 * latency-aware picks) and to the variant's outlier detection (ejections).
 */
export function recordTryEnd(variant: VariantRuntime, replica: ReplicaRuntime, outcome: Outcome): void {
  variant.picker.report(replica, outcome);
  variant.observe(replica, outcome);
}

/**
 * Closes a call's books, the same on every data path (HTTP fast, node:http, gRPC): the service's retry budget, the variant's
 * in-flight count, and the replica that answered last (requests, errors, latency).
 */
export function recordCallEnd(
  service: ServiceRuntime,
  variant: VariantRuntime,
  replica: ReplicaRuntime | undefined,
  failed: boolean,
  elapsedS: number,
): void {
  service.budget.requestEnded();
  variant.requestEnded(failed, elapsedS * 1000);
  if (replica) {
    replica.requests++;
    if (failed) replica.errors++;
    replica.latency?.observe(elapsedS);
  }
}
