import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/index.js';
import {
  type Balancer,
  type BalancerReplica,
  balancerReplica,
  LeastRequestBalancer,
  RoundRobinBalancer,
} from '../../src/lb/index.js';

const ok = { kind: 'response', status: 200, latencyMs: 1 } as const;
const fleet = (n: number): BalancerReplica[] => Array.from({ length: n }, (_, i) => balancerReplica(`r${i}`));

/**
 * A closed-loop simulation on a simulated clock: `users` requests always in flight, each held by
 * its replica for that replica's service time. Returns each replica's share of requests.
 */
function simulate(
  b: Balancer<BalancerReplica>,
  serviceMs: number[],
  users: number,
  requests: number,
): number[] {
  const rs = fleet(serviceMs.length);
  b.update(rs);
  const counts = rs.map(() => 0);
  // Pending completions: [time, replica index], kept sorted by time (small arrays).
  const pending: [number, number][] = [];
  const start = (now: number): void => {
    const r = b.pick()!;
    const i = rs.indexOf(r);
    counts[i]!++;
    // A replica serves its requests concurrently but slows with its load, like a busy server.
    const done = now + serviceMs[i]! * r.active;
    let at = pending.findIndex(([t]) => t > done);
    if (at < 0) at = pending.length;
    pending.splice(at, 0, [done, i]);
  };
  for (let u = 0; u < users; u++) start(0);
  for (let n = users; n < requests; n++) {
    const [now, i] = pending.shift()!;
    b.report(rs[i]!, ok);
    start(now);
  }
  return counts.map((c) => c / requests);
}

describe('LeastRequestBalancer (power of two choices)', () => {
  it('takes the less loaded of the two it samples', () => {
    const b = new LeastRequestBalancer({}, { random: seededRandom(9) });
    const rs = fleet(3);
    rs[1]!.active = 5;
    rs[2]!.active = 5;
    b.update(rs);
    let idle = 0;
    for (let i = 0; i < 100_000; i++) {
      const r = b.pick()!;
      if (r === rs[0]) idle++;
      b.report(r, ok);
    }
    // The idle replica loses only when both samples are the loaded ones: P = 2/3 · 1/2.
    assert.ok(Math.abs(idle / 100_000 - 2 / 3) < 0.01, `idle replica share ${idle / 100_000}`);
  });

  it('with two replicas always takes the less loaded', () => {
    const b = new LeastRequestBalancer({}, { random: seededRandom(1) });
    const rs = fleet(2);
    rs[0]!.active = 3;
    b.update(rs);
    for (let i = 0; i < 1000; i++) {
      const r = b.pick()!;
      assert.equal(r, rs[1]);
      b.report(r, ok);
    }
  });

  it('spreads 100k picks evenly over equal replicas (Envoy-style simulation, ±1 point)', () => {
    const shares = simulate(
      new LeastRequestBalancer({}, { random: seededRandom(5) }),
      [1, 1, 1, 1],
      16,
      100_000,
    );
    for (const s of shares) assert.ok(Math.abs(s - 0.25) < 0.01, `shares ${shares}`);
  });

  it('sends less to a slow replica than round robin does (100k picks)', () => {
    const serviceMs = [1, 1, 4];
    const lr = simulate(new LeastRequestBalancer({}, { random: seededRandom(5) }), serviceMs, 12, 100_000);
    const rr = simulate(new RoundRobinBalancer(), serviceMs, 12, 100_000);
    for (const s of rr) assert.ok(Math.abs(s - 1 / 3) < 0.01, `round robin shares ${rr}`);
    assert.ok(lr[2]! < 0.25, `least request gave the slow replica ${lr[2]}`);
    assert.ok(Math.abs(lr[0]! - lr[1]!) < 0.02, `fast replicas ${lr}`);
  });
});

describe('RoundRobinBalancer', () => {
  it('takes each replica in turn', () => {
    const b = new RoundRobinBalancer();
    const rs = fleet(3);
    b.update(rs);
    const order = Array.from({ length: 6 }, () => {
      const r = b.pick()!;
      b.report(r, ok);
      return r.id;
    });
    assert.deepEqual(order, ['r0', 'r1', 'r2', 'r0', 'r1', 'r2']);
  });
});
