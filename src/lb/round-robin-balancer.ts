import {
  type Balancer,
  type BalancerReplica,
  candidates,
  type Outcome,
  type PickOptions,
} from './balancer.js';
import { rendezvousPick } from './hash.js';

/**
 * Envoy's round_robin: each replica in turn, whatever its load. The baseline least-request is
 * measured against (bench/gateway), and the right choice when every request costs the same.
 */
export class RoundRobinBalancer<R extends BalancerReplica> implements Balancer<R> {
  private replicas: readonly R[] = [];
  private next = 0;

  update(replicas: readonly R[]): void {
    this.replicas = [...replicas];
  }

  pick(options?: PickOptions<R>): R | undefined {
    const from = candidates(this.replicas, options?.attempted);
    let picked: R | undefined;
    if (options?.hashKey !== undefined) {
      picked = rendezvousPick(
        from,
        options.hashKey,
        (r) => r.hash,
        () => 1,
      );
    } else if (from.length > 0) {
      picked = from[this.next++ % from.length];
      if (this.next >= 0x3fffffff) this.next = 0;
    }
    if (picked) picked.active++;
    return picked;
  }

  report(replica: R, _outcome: Outcome): void {
    replica.active--;
  }
}
