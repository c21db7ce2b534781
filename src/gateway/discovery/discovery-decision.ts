import { isIPv6 } from 'node:net';

/**
 * The pure half of DNS discovery: the known address set and one DNS answer in, the addresses to
 * add and to drain, the next resolution time and what (if anything) is worth a log line out. No
 * sockets and no clock: `now` is given, so every case is a table row in a unit test.
 */

/** One record family's answer (A or AAAA). */
export type FamilyAnswer =
  /** Records, each with its TTL in seconds. */
  | { readonly kind: 'records'; readonly records: readonly { address: string; ttl: number }[] }
  /** The name exists but has no records of this family (NODATA): a true "none". */
  | { readonly kind: 'empty' }
  /** No answer: NXDOMAIN, timeout, SERVFAIL, refused (`code` is Node's, e.g. `ENOTFOUND`). */
  | { readonly kind: 'failed'; readonly code: string };

/** A resolution of a name: its A and its AAAA answer. */
export interface DnsAnswer {
  readonly v4: FamilyAnswer;
  readonly v6: FamilyAnswer;
}

/** Where the last resolution left the discovery. */
export type DiscoveryStatus =
  /** Not resolved yet. */
  | 'pending'
  /** Answered with at least one address. */
  | 'resolved'
  /** Answered with none: the variant has no replicas (requests get FLT_NO_REPLICA). */
  | 'no-addresses'
  /** A family failed to resolve; its last known addresses are kept. */
  | 'failed';

/** What discovery knows between resolutions. */
export interface DiscoveryState {
  /** The addresses in routing, sorted (IPv4 and IPv6, bare: `10.0.0.7`, `fd00::7`). */
  readonly addresses: readonly string[];
  readonly status: DiscoveryStatus;
  /** The failure that set `status: 'failed'`, e.g. `A ENOTFOUND, AAAA ENOTFOUND`. */
  readonly error?: string;
}

/** The first state: nothing known, nothing resolved. */
export const INITIAL_DISCOVERY: DiscoveryState = Object.freeze({ addresses: [], status: 'pending' });

/** Re-resolution bounds (milliseconds). */
export interface DiscoveryTiming {
  /** Re-resolve at least this often. */
  readonly intervalMs: number;
  /** Never re-resolve sooner than this, whatever a TTL says. */
  readonly minIntervalMs: number;
}

/** One decision: the next state, the changes to make, and when to ask again. */
export interface DiscoveryDecision {
  readonly state: DiscoveryState;
  /** Addresses that join (sorted). */
  readonly add: readonly string[];
  /** Addresses to drain: no new requests, those in flight finish (sorted). */
  readonly remove: readonly string[];
  /** When to resolve again, on the same clock as `now`. */
  readonly nextResolveAtMs: number;
  /** True when the status or its error changed: the one moment to log it. */
  readonly statusChanged: boolean;
}

/**
 * Decides what an answer changes. Per family: records replace that family's addresses, an empty
 * answer removes them, a failure keeps them (a DNS outage must not empty a working variant). The
 * next resolution is due after the lowest TTL of the records used, bounded by the timing; after a
 * failure or an empty answer, after the interval.
 */
export function decideDiscovery(
  known: DiscoveryState,
  answer: DnsAnswer,
  now: number,
  timing: DiscoveryTiming,
): DiscoveryDecision {
  const before = new Set(known.addresses);
  const next = new Set<string>();
  const failures: string[] = [];
  let ttlS = Number.POSITIVE_INFINITY;
  for (const [family, a, v6] of [
    ['A', answer.v4, false],
    ['AAAA', answer.v6, true],
  ] as const) {
    if (a.kind === 'records') {
      for (const r of a.records) {
        next.add(r.address);
        ttlS = Math.min(ttlS, r.ttl);
      }
    } else if (a.kind === 'failed') {
      failures.push(`${family} ${a.code}`);
      for (const address of before) if (isIPv6(address) === v6) next.add(address);
    }
  }
  const addresses = [...next].sort();
  const status: DiscoveryStatus =
    failures.length > 0 ? 'failed' : addresses.length > 0 ? 'resolved' : 'no-addresses';
  const error = failures.length > 0 ? failures.join(', ') : undefined;
  const state: DiscoveryState = { addresses, status, ...(error !== undefined ? { error } : {}) };
  const waitMs = Math.min(
    timing.intervalMs,
    Math.max(timing.minIntervalMs, Number.isFinite(ttlS) ? ttlS * 1000 : timing.intervalMs),
  );
  return {
    state,
    add: addresses.filter((a) => !before.has(a)),
    remove: [...before].filter((a) => !next.has(a)).sort(),
    nextResolveAtMs: now + waitMs,
    statusChanged: status !== known.status || error !== known.error,
  };
}
