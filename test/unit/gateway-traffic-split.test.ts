import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/index.js';
import {
  checkWeights,
  hash32,
  pickWeighted,
  type SplitVariant,
  shouldMirror,
  splitTraffic,
} from '../../src/lb/index.js';

const variants = (...weights: number[]): SplitVariant[] =>
  weights.map((weight, i) => ({ tag: `var${i + 1}`, tagHash: hash32(`var${i + 1}`), weight }));

function shares(pick: (i: number) => string | undefined, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const tag = pick(i) ?? 'none';
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, c]) => [k, c / n]));
}

function assertShares(got: Map<string, number>, want: Record<string, number>, tolerance: number): void {
  for (const [tag, share] of Object.entries(want)) {
    const s = got.get(tag) ?? 0;
    assert.ok(
      Math.abs(s - share) <= tolerance,
      `${tag}: ${s.toFixed(4)} is not within ${tolerance} of ${share}`,
    );
  }
}

describe('traffic split', () => {
  it('splits by weight (100k seeded picks within 0.5 points)', () => {
    const random = seededRandom(1);
    const vs = variants(80, 20);
    assertShares(
      shares(() => pickWeighted(vs, random)?.tag, 100_000),
      { var1: 0.8, var2: 0.2 },
      0.005,
    );
    const three = variants(50, 0, 25);
    const got = shares(() => pickWeighted(three, random)?.tag, 100_000);
    assertShares(got, { var1: 2 / 3, var3: 1 / 3 }, 0.005);
    assert.equal(got.get('var2'), undefined, 'a weight of 0 takes no traffic');
  });

  it("takes Paddle's weight semantics: relative, any scale", () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let i = 0; i < 1000; i++)
      assert.equal(pickWeighted(variants(1, 3), a)?.tag, pickWeighted(variants(25, 75), b)?.tag);
  });

  it('picks nothing when every weight is 0', () => {
    assert.equal(pickWeighted(variants(0, 0), seededRandom(1)), undefined);
    assert.deepEqual(splitTraffic(variants(0, 0), {}, seededRandom(1)), { kind: 'no-weight' });
  });

  it('forces a tag, even one at weight 0, and reports unknown tags', () => {
    const vs = variants(100, 0);
    const d = splitTraffic(vs, { forcedTag: 'var2' }, seededRandom(1));
    assert.equal(d.kind === 'variant' && d.variant.tag, 'var2');
    assert.equal(d.kind === 'variant' && d.reason, 'forced');
    assert.deepEqual(splitTraffic(vs, { forcedTag: 'x' }, seededRandom(1)), {
      kind: 'unknown-tag',
      tag: 'x',
    });
  });

  const sticky = (vs: SplitVariant[], key: string): string | undefined => {
    const d = splitTraffic(vs, { keyHash: hash32(key) }, seededRandom(0));
    return d.kind === 'variant' ? d.variant.tag : undefined;
  };

  it('keeps a key on its variant while the weights are unchanged', () => {
    const vs = variants(80, 20);
    for (let i = 0; i < 1000; i++) {
      const first = sticky(vs, `user-${i}`);
      for (let j = 0; j < 3; j++) assert.equal(sticky(vs, `user-${i}`), first);
    }
  });

  it('spreads keys by weight (100k keys within 0.5 points)', () => {
    assertShares(
      shares((i) => sticky(variants(80, 20), `user-${i}`), 100_000),
      { var1: 0.8, var2: 0.2 },
      0.005,
    );
    assertShares(
      shares((i) => sticky(variants(1, 1, 2), `k${i}`), 100_000),
      { var1: 0.25, var2: 0.25, var3: 0.5 },
      0.005,
    );
  });

  it('moves only the keys it must when weights change (rendezvous)', () => {
    const before = variants(80, 20);
    const after = variants(60, 40);
    let moved = 0;
    for (let i = 0; i < 20_000; i++) {
      const a = sticky(before, `user-${i}`);
      const b = sticky(after, `user-${i}`);
      if (a !== b) {
        moved++;
        // Raising var2's weight only ever moves keys onto it.
        assert.equal(b, 'var2');
      }
    }
    // The minimum is the 20 points that changed hands; rendezvous stays close to it.
    assert.ok(moved / 20_000 < 0.25, `moved ${moved / 20_000}`);
  });

  it('mirrors a share of requests', () => {
    const random = seededRandom(3);
    let n = 0;
    for (let i = 0; i < 100_000; i++) if (shouldMirror(10, random)) n++;
    assert.ok(Math.abs(n / 100_000 - 0.1) < 0.005, String(n));
    assert.equal(shouldMirror(0, random), false);
  });

  it('validates runtime weights', () => {
    const tags = ['a', 'b'];
    const check = (w: Record<string, number>) => checkWeights(tags, new Map(Object.entries(w)));
    assert.equal(check({ a: 0, b: 1 }), undefined);
    assert.match(check({ a: 0, b: 0 })!, /add up to 0/);
    assert.match(check({ a: -1, b: 1 })!, /weight of a: -1 is not a number >= 0/);
    assert.match(check({ a: 1 })!, /no weight for b/);
    assert.match(check({ a: 1, b: 1, c: 1 })!, /no variant tagged c; tags: a, b/);
    assert.match(check({ a: Number.NaN, b: 1 })!, /weight of a/);
  });
});
