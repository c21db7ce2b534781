import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CanaryObservation, decideRollout, type RolloutConfig } from '../../src/rollout/index.js';

const config: RolloutConfig = {
  steps: [10, 25, 50, 100],
  intervalMs: 30_000,
  minRequests: 20,
  slo: { latencyMs: 50, errorRate: 0.01 },
};
const seen = (requests: number, errors: number, p99Ms?: number): CanaryObservation => ({
  requests,
  errors,
  p99Ms,
});

const cases: {
  name: string;
  step: number;
  startedAt: number;
  seen: CanaryObservation;
  now: number;
  want: [string, number, number];
  reason: RegExp;
}[] = [
  {
    name: 'holds within the interval',
    step: 0,
    startedAt: 0,
    seen: seen(100, 0, 10),
    now: 10_000,
    want: ['hold', 10, 0],
    reason: /^step 1\/4 \(10%\) runs 10.0s of 30s; 100 of 20 canary requests so far$/,
  },
  {
    name: 'advances after a healthy interval',
    step: 0,
    startedAt: 0,
    seen: seen(100, 0, 10),
    now: 30_000,
    want: ['advance', 25, 1],
    reason: /healthy at 10% .* -> 25%/,
  },
  {
    name: 'holds without enough requests to judge',
    step: 1,
    startedAt: 0,
    seen: seen(5, 0, 10),
    now: 60_000,
    want: ['hold', 25, 1],
    reason: /^step 2\/4 \(25%\) waits for 20 canary requests, has 5$/,
  },
  {
    name: 'promotes after the last step',
    step: 3,
    startedAt: 0,
    seen: seen(100, 1, 40),
    now: 30_000,
    want: ['promote', 100, 3],
    reason: /healthy at 100%/,
  },
  {
    name: 'rolls back on errors at once',
    step: 2,
    startedAt: 0,
    seen: seen(100, 5, 10),
    now: 1_000,
    want: ['rollback', 0, 2],
    reason: /error rate 5.00% \(5\/100\) > SLO 1.00% at 50%/,
  },
  {
    name: 'rolls back on latency',
    step: 1,
    startedAt: 0,
    seen: seen(50, 0, 80),
    now: 1_000,
    want: ['rollback', 0, 1],
    reason: /p99 80.0 ms > SLO 50 ms at 25%/,
  },
  {
    name: 'does not judge a handful of requests',
    step: 0,
    startedAt: 0,
    seen: seen(3, 3, 500),
    now: 1_000,
    want: ['hold', 10, 0],
    reason: /step 1\/4 \(10%\) runs 1.0s of 30s; 3 of 20/,
  },
];

describe('decideRollout', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = decideRollout(config, { step: c.step, stepStartedAt: c.startedAt }, c.seen, c.now);
      assert.deepEqual([d.action, d.canaryWeight, d.step], c.want);
      assert.match(d.reason, c.reason);
    });
  }
});
