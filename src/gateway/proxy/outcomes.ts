import type { Outcome } from '../balancing/balancer.js';

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
