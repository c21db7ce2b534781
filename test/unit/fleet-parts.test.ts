/**
 * The fleet's parts on their own, with time passed in: VariantScaling (pin, unpin, wake),
 * ServiceRollout (steps judged on their own requests, hold reasons), the capacity rule of
 * `flotilla scale`, and which models a replica's handshake shows missing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPACITY_DEFAULTS, scaleLimit } from '../../src/fleet/capacity.js';
import { ServiceRollout } from '../../src/fleet/service-rollout.js';
import { VariantScaling } from '../../src/fleet/variant-scaling.js';
import { missingModels } from '../../src/orchestrator/local/child-replica.js';
import type { ScaleSpec } from '../../src/spec/index.js';

const SCALE: ScaleSpec = {
  min: 0,
  max: 3,
  initial: 0,
  targetConcurrency: 1,
  targetUtilization: 1,
  stableWindowMs: 6000,
  panicWindowPercent: 10,
  panicThresholdPercent: 200,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  scaleToZeroAfterMs: 2000,
  scaleDownDelayMs: 0,
  activationScale: 1,
  containerConcurrency: 0,
};

describe('VariantScaling', () => {
  it('pins the count (min = max) and unpins back to the bounds, keeping one when asked', () => {
    const s = new VariantScaling(SCALE, 0);
    assert.equal(s.desired, 0);
    s.pin(2, 10);
    assert.deepEqual([s.desired, s.min, s.max, s.pinned], [2, 2, 2, true]);
    s.pin(0, 20);
    assert.equal(s.unpin(30, true), true, 'desired raised');
    assert.deepEqual([s.desired, s.min, s.max, s.pinned], [1, 0, 3, false]);
    assert.equal(s.unpin(40, true), false, 'not pinned: nothing to do');
    s.pin(0, 50);
    assert.equal(s.unpin(60, false), false);
    assert.equal(s.desired, 0);
  });

  it('wakes from zero once; not when a replica is already wanted or max is 0', () => {
    const s = new VariantScaling(SCALE, 0);
    assert.equal(s.wake(5), true);
    assert.equal(s.desired, 1);
    assert.equal(s.wake(6), false);
    const none = new VariantScaling({ ...SCALE, min: 0, max: 0 } as ScaleSpec, 0);
    assert.equal(none.wake(1), false);
  });

  it('a woken replica is not scaled away before the idle grace even without load', () => {
    const s = new VariantScaling(SCALE, 0);
    s.wake(1000);
    assert.equal(s.tick({ integral: 0, lastActiveAt: undefined, readyReplicas: 0 }, 1500), undefined);
    assert.equal(s.desired, 1);
  });
});

describe('ServiceRollout', () => {
  const config = {
    steps: [10, 50, 100],
    intervalMs: 10_000,
    minRequests: 5,
    slo: { latencyMs: 50, errorRate: 0.1 },
  };
  const reading = (requests: number, errors = 0) => ({ requests, errors, p99Since: () => 10 });

  it('judges each step on its own requests, says why it holds, and promotes after the last', () => {
    const r = new ServiceRollout('stable', 'canary', config, 10);
    assert.equal(r.start(0, reading(100)), 10);
    assert.equal(r.tick(10_000, reading(103))?.action, 'hold');
    assert.equal(r.status().holding, 'step 1/3 (10%) waits for 5 canary requests, has 3');
    const advance = r.tick(10_001, reading(106));
    assert.equal(advance?.action, 'advance');
    assert.deepEqual([r.step, r.canaryWeight], [1, 50]);
    // The new step counts from 106: 4 more are not enough.
    assert.equal(r.tick(20_002, reading(110))?.action, 'hold');
    assert.equal(r.tick(20_003, reading(111))?.action, 'advance');
    assert.equal(r.tick(30_004, reading(120))?.action, 'promote');
    assert.equal(r.phase, 'promoted');
    assert.equal(r.status().holding, undefined);
  });

  it('rolls back on errors; a manual change settles it and stops the steps', () => {
    const r = new ServiceRollout('stable', 'canary', config, 10);
    r.start(0, reading(0));
    assert.equal(r.tick(1000, reading(10, 5))?.action, 'rollback');
    assert.deepEqual([r.phase, r.canaryWeight], ['rolled-back', 0]);
    r.start(2000, reading(10, 5));
    r.settle('manual', 30, 'weights set by hand');
    assert.equal(r.tick(50_000, reading(1000)), undefined);
    assert.deepEqual(
      [r.phase, r.canaryWeight, r.status().lastDecision],
      ['manual', 30, 'weights set by hand'],
    );
  });
});

describe('scaleLimit: what flotilla scale may pin', () => {
  const machine = { cores: 2, memoryBytes: 8 * 1024 ** 3 };
  const cost = { instances: 2, memoryBytes: 200 * 1024 ** 2 };
  const none = { replicas: 0, memoryBytes: 0 };

  it('pins the defaults (4 replicas per core, 75% of memory)', () => {
    assert.deepEqual({ ...CAPACITY_DEFAULTS }, { replicasPerCore: 4, memoryShare: 0.75 });
  });

  const cases: {
    name: string;
    requested: number;
    max: number;
    others: { replicas: number; memoryBytes: number };
    machine?: { cores: number; memoryBytes: number };
    allowed: number;
    reason: RegExp | undefined;
  }[] = [
    { name: 'within every bound', requested: 2, max: 4, others: none, allowed: 4, reason: undefined },
    { name: 'above max', requested: 5, max: 4, others: none, allowed: 4, reason: /the variant's max is 4/ },
    {
      name: 'above the cores: 2 cores x 4 = 8 replicas (replicas count, not their instances)',
      requested: 100,
      max: 100,
      others: none,
      allowed: 8,
      reason: /this machine holds 8: 2 cores x 4 = 8 replicas, 0 used by other variants/,
    },
    {
      name: 'other variants take their share',
      requested: 5,
      max: 10,
      others: { replicas: 4, memoryBytes: 0 },
      allowed: 4,
      reason: /holds 4: .* 4 used by other variants/,
    },
    {
      name: 'memory binds first on a small machine',
      requested: 4,
      max: 10,
      others: none,
      machine: { cores: 64, memoryBytes: 1024 ** 3 },
      allowed: 3,
      reason: /memory holds 3: 768 MiB \(75% of 1024 MiB\)/,
    },
    {
      name: '0 is always allowed',
      requested: 0,
      max: 1,
      others: { replicas: 99, memoryBytes: 0 },
      allowed: 0,
      reason: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = scaleLimit('m/v', c.requested, c.max, cost, c.others, c.machine ?? machine);
      assert.equal(got.allowed, c.allowed);
      if (c.reason === undefined) assert.equal(got.reason, undefined);
      else assert.match(got.reason ?? '', c.reason);
    });
  }
});

describe('missingModels: the handshake against what a replica was asked to load', () => {
  const t = {
    kind: 'model' as const,
    repository: '/srv/models',
    model: 'mnist',
    version: 7,
    with: ['digit'],
  };
  it('names a missing version with the versions there, a model not in the repository, and load errors', () => {
    assert.deepEqual(
      missingModels(t, [
        { name: 'mnist', version: '1', state: 'READY' },
        { name: 'mnist', version: '2', state: 'READY' },
      ]),
      [
        'mnist version 7 is not in the repository /srv/models (versions there: 1, 2)',
        'model digit is not in the repository /srv/models',
      ],
    );
    assert.deepEqual(
      missingModels({ ...t, with: [] }, [
        { name: 'mnist', version: '7', state: 'UNAVAILABLE', reason: 'bad onnx file' },
      ]),
      ['mnist version 7 did not load: bad onnx file'],
    );
  });

  it('is empty when every model asked for is ready', () => {
    assert.deepEqual(
      missingModels(t, [
        { name: 'mnist', version: '7', state: 'READY' },
        { name: 'digit', version: '1', state: 'READY' },
        { name: 'other', state: 'UNAVAILABLE', reason: 'unloaded' },
      ]),
      [],
    );
  });
});
