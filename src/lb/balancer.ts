import { hash32 } from './hash.js';

/**
 * A replica as a balancer sees it: a stable id, its hash (for hash-keyed picks) and its requests
 * in flight. `active` is kept by the balancer: +1 on pick, -1 on report.
 */
export interface BalancerReplica {
  readonly id: string;
  readonly hash: number;
  active: number;
}

/** A plain balancer replica for an id (tests, the routing client). */
export function balancerReplica(id: string): BalancerReplica {
  return { id, hash: hash32(id), active: 0 };
}

/** How one try on a replica ended. */
export type Outcome =
  | { readonly kind: 'response'; readonly status: number; readonly latencyMs: number }
  /** Connection refused, reset or closed before a full answer. */
  | { readonly kind: 'connect-error' | 'reset'; readonly latencyMs: number }
  | { readonly kind: 'timeout'; readonly latencyMs: number }
  /** The client went away or the gateway abandoned the try: says nothing about the replica. */
  | { readonly kind: 'cancelled'; readonly latencyMs: number };

/** The request's say in the pick. */
export interface PickOptions<R> {
  /** Replicas already tried for this request: avoided while any other remains. */
  readonly attempted?: readonly R[] | undefined;
  /** When set, the same key goes to the same replica while the set is unchanged (rendezvous). */
  readonly hashKey?: number | undefined;
}

/**
 * Picks a replica for each try of a request among the replicas it was last given (the ones fit to
 * serve: healthy and not ejected). Every pick is followed by exactly one report for it.
 */
export interface Balancer<R extends BalancerReplica> {
  /** Replaces the replicas to pick from; their `active` counts carry over (they live on them). */
  update(replicas: readonly R[]): void;
  /** The replica for the next try (its `active` goes up by one), or undefined when there is none. */
  pick(options?: PickOptions<R>): R | undefined;
  /** How the try on `replica` ended (its `active` goes down by one). */
  report(replica: R, outcome: Outcome): void;
}

/** The replicas not yet attempted, or all of them when every one has been (retry the same). */
export function candidates<R>(replicas: readonly R[], attempted: readonly R[] | undefined): readonly R[] {
  if (attempted === undefined || attempted.length === 0) return replicas;
  const rest = replicas.filter((r) => !attempted.includes(r));
  return rest.length > 0 ? rest : replicas;
}
