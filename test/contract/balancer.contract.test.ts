import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/index.js';
import {
  type Balancer,
  type BalancerReplica,
  balancerReplica,
  hash32,
  LeastRequestBalancer,
  RoundRobinBalancer,
} from '../../src/lb/index.js';

/** Every `Balancer` implementation, built fresh per test. */
const implementations: [string, () => Balancer<BalancerReplica>][] = [
  ['LeastRequestBalancer', () => new LeastRequestBalancer({}, { random: seededRandom(42) })],
  [
    'LeastRequestBalancer (choiceCount 3)',
    () => new LeastRequestBalancer({ choiceCount: 3 }, { random: seededRandom(42) }),
  ],
  ['RoundRobinBalancer', () => new RoundRobinBalancer()],
];

const ok = { kind: 'response', status: 200, latencyMs: 1 } as const;
const fleet = (n: number): BalancerReplica[] =>
  Array.from({ length: n }, (_, i) => balancerReplica(`127.0.0.1:${8000 + i}`));

for (const [name, make] of implementations) {
  describe(`Balancer contract: ${name}`, () => {
    it('picks nothing from an empty set', () => {
      const b = make();
      assert.equal(b.pick(), undefined);
      b.update([]);
      assert.equal(b.pick({ attempted: [] }), undefined);
    });

    it('counts a pick as in flight until its report', () => {
      const b = make();
      const [r] = fleet(1);
      b.update([r!]);
      assert.equal(b.pick(), r);
      assert.equal(r!.active, 1);
      b.report(r!, ok);
      assert.equal(r!.active, 0);
    });

    for (const n of [2, 3, 5]) {
      it(`gives each of ${n} replicas an even share when nothing is in flight`, () => {
        const b = make();
        const rs = fleet(n);
        b.update(rs);
        const counts = new Map<BalancerReplica, number>();
        for (let i = 0; i < 6000; i++) {
          const r = b.pick()!;
          counts.set(r, (counts.get(r) ?? 0) + 1);
          b.report(r, ok);
        }
        for (const r of rs)
          assert.ok(Math.abs((counts.get(r) ?? 0) / 6000 - 1 / n) < 0.03, `${r.id}: ${counts.get(r)}`);
      });
    }

    it('avoids replicas already attempted while another remains', () => {
      const b = make();
      const rs = fleet(3);
      b.update(rs);
      for (let i = 0; i < 200; i++) {
        const r = b.pick({ attempted: [rs[0]!, rs[2]!] })!;
        assert.equal(r, rs[1]);
        b.report(r, ok);
      }
      // All attempted: a retry may go to one of them again rather than nowhere.
      const again = b.pick({ attempted: rs })!;
      assert.ok(rs.includes(again));
      b.report(again, ok);
    });

    it('sends a hash key to the same replica while the set is unchanged, and spreads keys', () => {
      const b = make();
      const rs = fleet(4);
      b.update(rs);
      const seen = new Set<BalancerReplica>();
      for (let k = 0; k < 400; k++) {
        const first = b.pick({ hashKey: hash32(`key-${k}`) })!;
        b.report(first, ok);
        for (let j = 0; j < 3; j++) {
          const r = b.pick({ hashKey: hash32(`key-${k}`) })!;
          assert.equal(r, first);
          b.report(r, ok);
        }
        seen.add(first);
      }
      assert.equal(seen.size, 4);
    });

    it('never picks a replica removed by update, and keeps counts across updates', () => {
      const b = make();
      const rs = fleet(3);
      b.update(rs);
      const held = b.pick()!;
      b.update(rs.filter((r) => r !== rs[1]));
      for (let i = 0; i < 300; i++) {
        const r = b.pick()!;
        assert.notEqual(r, rs[1]);
        b.report(r, ok);
      }
      assert.equal(held.active, 1);
      b.report(held, ok);
      assert.equal(held.active, 0);
    });
  });
}
