import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConcurrencyTracker,
  ConcurrencyWindow,
  type KpaConfig,
  KpaScaler,
  type ScalerInput,
} from '../../src/autoscaler/index.js';

const config = (over: Partial<KpaConfig> = {}): KpaConfig => ({
  panicWindowPercent: 10,
  panicThresholdPercent: 200,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  initialScale: 1,
  activationScale: 1,
  scaleToZeroAfterMs: 30_000,
  scaleDownDelayMs: 0,
  targetConcurrency: 10,
  targetUtilization: 0.7,
  stableWindowMs: 10_000,
  min: 0,
  max: 20,
  ...over,
});
const input = (
  stable: number,
  panic: number,
  ready: number,
  lastActiveAt: number | undefined = 0,
): ScalerInput => ({
  stableConcurrency: stable,
  panicConcurrency: panic,
  readyReplicas: ready,
  lastActiveAt,
});

describe('ConcurrencyTracker and ConcurrencyWindow', () => {
  it('measure time-weighted average concurrency exactly', () => {
    const t = new ConcurrencyTracker(0);
    const w = new ConcurrencyWindow(10_000);
    w.record(0, t.integral(0));
    t.begin(0);
    t.begin(0);
    t.end(500); // 2 in flight for 0.5 s, then 1 for 0.5 s
    w.record(1000, t.integral(1000));
    assert.equal(w.average(1000, 1000), 1.5);
    t.end(1000);
    w.record(2000, t.integral(2000));
    assert.equal(w.average(2000, 1000), 0);
    assert.equal(w.average(2000, 2000), 0.75);
    assert.equal(t.lastActiveAt(2000), 1000);
  });
  it('has no average before two samples: no data is not zero load', () => {
    const w = new ConcurrencyWindow(1000);
    assert.equal(w.average(0, 1000), undefined);
    w.record(0, 0);
    assert.equal(w.average(0, 1000), undefined);
  });
});

describe('KpaScaler', () => {
  it('without data keeps the initial scale and says the decision is not valid', () => {
    const d = new KpaScaler(config({ initialScale: 2 })).decide(
      {
        stableConcurrency: undefined,
        panicConcurrency: undefined,
        readyReplicas: 0,
        lastActiveAt: undefined,
      },
      0,
    );
    assert.deepEqual([d.desired, d.valid], [2, false]);
  });

  const cases: {
    name: string;
    config: Partial<KpaConfig>;
    input: ScalerInput;
    desired: number;
    reason?: RegExp;
  }[] = [
    {
      name: 'stable: ceil(concurrency / (target x utilization))',
      config: {},
      input: input(14, 14, 2),
      desired: 2,
      reason: /stable: 14 concurrent over 10s \/ 7 per replica -> 2/,
    },
    { name: 'scale-down is bounded by the rate', config: {}, input: input(1, 1, 8), desired: 4 },
    {
      name: 'scale-up is bounded by the rate',
      config: { maxScaleUpRate: 2 },
      input: input(60, 60, 1),
      desired: 2,
    },
    {
      name: 'max bounds the result',
      config: { max: 4 },
      input: input(100, 100, 4),
      desired: 4,
      reason: /bounded to \[0, 4\]/,
    },
    {
      name: 'min keeps replicas when idle',
      config: { min: 2 },
      input: input(0, 0, 2, undefined),
      desired: 2,
    },
    {
      name: 'min 0: stays at 1 until a stable window without requests has passed',
      config: { scaleToZeroAfterMs: 0 },
      input: input(0, 0, 1, -9_000),
      desired: 1,
      reason: /active 9s ago < 10s stable window before zero/,
    },
    {
      name: 'min 0: stays at 1 for the grace period once inactive',
      config: { scaleToZeroAfterMs: 30_000 },
      input: input(0, 0, 1, -31_000),
      desired: 1,
      reason: /inactive 0s < 30s grace before zero/,
    },
    {
      name: 'min 0: goes to zero when inactive with no grace',
      config: { scaleToZeroAfterMs: 0 },
      input: input(0, 0, 1, -10_000),
      desired: 0,
    },
    {
      name: 'min 0: the grace does not start a replica for a variant already at zero',
      config: { scaleToZeroAfterMs: 30_000 },
      input: input(0, 0, 0, -1_000),
      desired: 0,
    },
    { name: 'at zero, any load asks for a replica', config: {}, input: input(0.1, 0.5, 0), desired: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = new KpaScaler(config(c.config)).decide(c.input, 0);
      assert.equal(d.desired, c.desired, d.reason);
      assert.equal(d.valid, true);
      if (c.reason) assert.match(d.reason, c.reason);
    });
  }

  it('panics on a burst, never scales down in panic, and leaves panic after a calm stable window', () => {
    const s = new KpaScaler(config());
    let d = s.decide(input(3, 21, 1), 0); // panic window wants 3 = 3x ready
    assert.deepEqual([d.desired, d.panic], [3, true]);
    d = s.decide(input(3, 0, 3), 5_000); // burst over, still in panic: no scale-down
    assert.deepEqual([d.desired, d.panic], [3, true]);
    d = s.decide(input(0, 0, 3), 10_000); // exactly a stable window: Knative leaves panic only after
    assert.equal(d.panic, true);
    d = s.decide(input(0, 0, 3), 10_001);
    assert.equal(d.panic, false);
    assert.equal(d.desired, 1); // down-rate 2 from 3 ready
  });

  it('goes to zero one grace period after the variant became inactive, counted from then', () => {
    const s = new KpaScaler(config({ scaleToZeroAfterMs: 5_000 }));
    // The last request ended at 0; the stable window (10 s) still holds it until 10 s.
    assert.equal(s.decide(input(0.01, 0, 1, 0), 9_000).desired, 1);
    assert.equal(s.decide(input(0, 0, 1, 0), 10_000).desired, 1); // inactive from here
    assert.equal(s.decide(input(0, 0, 1, 0), 14_999).desired, 1);
    assert.equal(s.decide(input(0, 0, 1, 0), 15_000).desired, 0);
    // A request in between starts the count again.
    const t = new KpaScaler(config({ scaleToZeroAfterMs: 5_000 }));
    assert.equal(t.decide(input(0, 0, 1, 0), 10_000).desired, 1);
    assert.equal(t.decide(input(0.5, 0, 1, 12_000), 12_000).desired, 1);
    assert.equal(t.decide(input(0, 0, 1, 12_000), 22_000).desired, 1);
    assert.equal(t.decide(input(0, 0, 1, 12_000), 26_999).desired, 1);
    assert.equal(t.decide(input(0, 0, 1, 12_000), 27_000).desired, 0);
  });

  it('scales 1 -> N within the panic window on a step to 32 concurrent, and back after the stable window', () => {
    const cfg = config({
      targetConcurrency: 4,
      targetUtilization: 1,
      stableWindowMs: 6_000,
      min: 1,
      scaleToZeroAfterMs: 0,
    });
    const scaler = new KpaScaler(cfg);
    const tracker = new ConcurrencyTracker(0);
    const window = new ConcurrencyWindow(cfg.stableWindowMs);
    let ready = 1;
    let reachedAt: number | undefined;
    let backAt: number | undefined;
    for (let now = 0; now <= 20_000; now += 100) {
      if (now === 1_000) for (let i = 0; i < 32; i++) tracker.begin(now);
      if (now === 5_000) for (let i = 0; i < 32; i++) tracker.end(now);
      window.record(now, tracker.integral(now));
      const d = scaler.decide(
        {
          stableConcurrency: window.average(now, cfg.stableWindowMs),
          panicConcurrency: window.average(now, scaler.panicWindowMs),
          readyReplicas: ready,
          lastActiveAt: tracker.lastActiveAt(now),
        },
        now,
      );
      if (d.valid) ready = d.desired; // replicas start instantly in this simulation
      if (ready >= 8 && reachedAt === undefined) reachedAt = now;
      if (reachedAt !== undefined && now > 5_000 && ready === 1 && backAt === undefined) backAt = now;
    }
    assert.ok(
      reachedAt !== undefined && reachedAt - 1_000 <= scaler.panicWindowMs,
      `reached 8 replicas at ${reachedAt}`,
    );
    // Down again only once the burst has mostly left the stable window: not within the panic
    // window after it ended, and no later than one stable window after it.
    assert.ok(backAt !== undefined, 'scaled back to 1');
    assert.ok(
      backAt - 5_000 > scaler.panicWindowMs && backAt - 5_000 <= cfg.stableWindowMs,
      `back to 1 at ${backAt}`,
    );
  });
});
