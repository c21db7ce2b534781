import type { Random } from '../core/index.js';
import {
  type Balancer,
  type BalancerReplica,
  candidates,
  type Outcome,
  type PickOptions,
} from './balancer.js';
import { rendezvousPick } from './hash.js';

/** Options of the least-request balancer. */
export interface LeastRequestOptions {
  /** Replicas sampled per pick; the one with fewest requests in flight wins. Default 2 (Envoy's). */
  readonly choiceCount?: number;
}

/**
 * Envoy's least_request: sample `choiceCount` distinct replicas at random and take the one with
 * the fewest requests in flight (power of two choices). Nearly as good as scanning every replica
 * for the least loaded, without herding every gateway onto the same one.
 */
export class LeastRequestBalancer<R extends BalancerReplica> implements Balancer<R> {
  private replicas: readonly R[] = [];
  private readonly choiceCount: number;

  constructor(
    options: LeastRequestOptions,
    private readonly deps: { readonly random: Random },
  ) {
    this.choiceCount = Math.max(1, options.choiceCount ?? 2);
  }

  update(replicas: readonly R[]): void {
    this.replicas = [...replicas];
  }

  pick(options?: PickOptions<R>): R | undefined {
    const from = candidates(this.replicas, options?.attempted);
    const picked = options?.hashKey !== undefined ? this.byHash(from, options.hashKey) : this.leastOf(from);
    if (picked) picked.active++;
    return picked;
  }

  report(replica: R, _outcome: Outcome): void {
    replica.active--;
  }

  private leastOf(from: readonly R[]): R | undefined {
    const n = from.length;
    if (n <= 1) return from[0];
    const random = this.deps.random;
    if (this.choiceCount >= n) return scanLeast(from, Math.floor(random.next() * n));
    // Distinct samples: the first index at random, the next ones among the rest (n is small).
    let best = from[Math.floor(random.next() * n)]!;
    if (this.choiceCount === 2) {
      const i = from.indexOf(best);
      const j = (i + 1 + Math.floor(random.next() * (n - 1))) % n;
      const other = from[j]!;
      return other.active < best.active ? other : best;
    }
    const seen = new Set<R>([best]);
    while (seen.size < this.choiceCount) {
      const r = from[Math.floor(random.next() * n)]!;
      if (seen.has(r)) continue;
      seen.add(r);
      if (r.active < best.active) best = r;
    }
    return best;
  }

  private byHash(from: readonly R[], key: number): R | undefined {
    return rendezvousPick(
      from,
      key,
      (r) => r.hash,
      () => 1,
    );
  }
}

/** The least loaded replica; scanning from a random offset so ties do not all go to the first. */
function scanLeast<R extends BalancerReplica>(from: readonly R[], offset: number): R | undefined {
  let best: R | undefined;
  for (let k = 0; k < from.length; k++) {
    const r = from[(offset + k) % from.length]!;
    if (best === undefined || r.active < best.active) best = r;
  }
  return best;
}
