/**
 * Knative conformance: the cases of knative/serving `pkg/autoscaler/scaling/autoscaler_test.go`
 * (Apache-2.0, © The Knative Authors; read at commit 98e5ef90aa7033797aa0a61ef97f3ff7e49a3944),
 * by name and figures, run against KpaScaler. Inputs are adapted to KpaScaler's API:
 *
 * - Knative's `TargetValue` is already target × utilization: here `targetConcurrency` is that
 *   value and `targetUtilization` is 1;
 * - the test helper's spec (panic threshold 2, rates 10, stable window 60 s) becomes the config
 *   below; min 0 and no max, no grace (`scaleToZeroAfterMs` 0): the reconciler's bounds and
 *   scale-to-zero are not in autoscaler.go, so they are switched off here and tested in
 *   autoscaler.test.ts;
 * - the fake pod counter's ready count is `ready`; `time.Now()` calls become increasing `at`s;
 * - a `prepFunc` that sets `panicTime = now - 5s` and `maxPanicPods = 5` is a scaler started in
 *   panic 5 s earlier with 5 ready (`KpaStart`, Knative's own start-in-panic rule).
 *
 * Cases left out or compared in part, each on purpose, are listed in DIFFERENCES (and in
 * docs/up.md#autoscaling).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type KpaConfig, KpaScaler, type KpaStart } from '../../src/autoscaler/index.js';
import { ROOT } from '../helpers/paths.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** newTestAutoscalerWithScalingMetric's DeciderSpec, in KpaConfig's terms. */
const knativeTestSpec = (target: number, over: Partial<KpaConfig> = {}): KpaConfig => ({
  targetConcurrency: target,
  targetUtilization: 1,
  stableWindowMs: 60 * SECOND,
  panicWindowPercent: 10,
  panicThresholdPercent: 200,
  maxScaleUpRate: 10,
  maxScaleDownRate: 10,
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  initialScale: 1,
  activationScale: 1,
  scaleToZeroAfterMs: 0,
  scaleDownDelayMs: 0,
  ...over,
});

interface Step {
  /** ms; Knative's `now` passed to Scale. */
  readonly at: number;
  readonly ready: number;
  /** Stable and panic concurrency; undefined is the metric client's ErrNoData. */
  readonly stable: number | undefined;
  readonly panic: number | undefined;
  readonly want: number;
  readonly wantInvalid?: boolean;
  /** Panic state after the step, where Knative's case checks `panicTime`. */
  readonly wantPanic?: boolean;
  readonly reachable?: boolean;
  /** `a.Update(spec)` before this step. */
  readonly update?: KpaConfig;
}

interface Case {
  /** Knative's test function, and the table label for TestAutoscalerScale. */
  readonly name: string;
  readonly config: KpaConfig;
  readonly start?: KpaStart;
  readonly steps: readonly Step[];
}

const s = (
  at: number,
  ready: number,
  stable: number | undefined,
  panic: number | undefined,
  want: number,
  more: Partial<Step> = {},
): Step => ({ at, ready, stable, panic, want, ...more });

// TestAutoscalerScaleDownDelay and its NotReachable variant share this spec: PanicThreshold 100
// (10000 %) so that panic never starts, and a five-minute scale-down delay.
const delaySpec = knativeTestSpec(10, { panicThresholdPercent: 10_000, scaleDownDelayMs: 5 * MINUTE });
const panicking5sAgoWith5: KpaStart = { now: -5 * SECOND, readyReplicas: 5 };

const CASES: readonly Case[] = [
  {
    name: 'TestAutoscalerScaleDownDelay/simple+gradual',
    config: delaySpec,
    steps: [
      s(2 * SECOND, 0, 40, 40, 4),
      s(5 * MINUTE, 0, 0, 0, 4), // less than the delay: no scale-down
      s(5 * MINUTE + 2 * SECOND, 0, 0, 0, 0),
      s(9 * MINUTE, 0, 40, 40, 4),
      s(10 * MINUTE, 0, 30, 30, 4), // 4 still dominates
      s(11 * MINUTE, 0, 0, 0, 4),
      s(14 * MINUTE, 0, 0, 0, 3), // 4 scrolls out, drop to 3
      s(15 * MINUTE, 0, 0, 0, 0), // everything scrolled out
    ],
  },
  {
    name: 'TestAutoscalerScaleDownDelayNotReachable',
    config: delaySpec,
    steps: [
      s(2 * SECOND, 0, 40, 40, 4),
      s(1 * MINUTE, 0, 0, 0, 4),
      // Marked unreachable (another revision takes the traffic): down at once.
      s(2 * SECOND, 0, 0, 0, 0, { reachable: false }),
    ],
  },
  {
    name: 'TestAutoscalerScaleDownDelayZero',
    config: knativeTestSpec(10, { panicThresholdPercent: 10_000 }),
    steps: [s(0, 0, 40, 40, 4), s(500, 0, 20, 20, 2)],
  },
  {
    name: 'TestAutoscalerNoDataNoAutoscale',
    config: knativeTestSpec(10),
    steps: [s(0, 1, undefined, undefined, 0, { wantInvalid: true })],
  },
  {
    name: 'TestAutoscalerMetrics (its scale figure)',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 50, 50, 5)],
  },
  {
    name: 'TestAutoscalerStableModeIncreaseWithConcurrencyDefault',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 50, 10, 5), s(1, 1, 100, 10, 10)],
  },
  {
    name: 'TestAutoscalerUnpanicAfterSlowIncrease',
    config: knativeTestSpec(1),
    steps: [
      s(0, 10, 11, 25, 25, { wantPanic: true }),
      // Half the stable window later, +1 replica per tick: still in panic, which did not move.
      s(30 * SECOND, 40, 30, 41, 41, { wantPanic: true }),
      // A stable window and a tick after panic began: it ends, and the stable count rules.
      s(62 * SECOND, 55, 50, 56, 50, { wantPanic: false }),
    ],
  },
  {
    name: 'TestAutoscalerExtendPanicWindow',
    config: knativeTestSpec(1),
    steps: [s(0, 10, 11, 25, 25, { wantPanic: true }), s(30 * SECOND, 40, 30, 80, 80, { wantPanic: true })],
  },
  {
    name: 'TestAutoscalerStableModeDecrease',
    config: knativeTestSpec(10),
    steps: [s(0, 8, 100, 100, 10), s(1, 8, 50, 50, 5)],
  },
  {
    name: 'TestAutoscalerStableModeNoTrafficScaleToZero',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 1, 0, 1), s(1, 1, 0, 0, 0)],
  },
  {
    name: 'TestAutoscalerActivationScale',
    config: knativeTestSpec(10, { activationScale: 2 }),
    steps: [s(0, 1, 0, 0, 0), s(1, 1, 1, 0, 2)],
  },
  {
    name: 'TestAutoscalerPanicModeExponentialTrackAndStabilize',
    config: knativeTestSpec(1),
    steps: [
      s(0, 1, 6, 6, 6),
      s(1, 6, 36, 36, 36, { wantPanic: true }),
      s(1 + SECOND, 36, 216, 216, 216, { wantPanic: true }),
      s(1 + SECOND, 216, 1296, 1296, 1296, { wantPanic: true }),
      s(1 + 2 * SECOND, 1296, 1296, 1296, 1296),
    ],
  },
  // TestAutoscalerScale's table.
  {
    name: 'TestAutoscalerScale/AutoscalerNoDataAtZeroNoAutoscale',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 0, 0, 0)],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerNoDataAtZeroNoAutoscaleWithExplicitEPs',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 0, 0, 0)],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerStableModeUnlimitedTBC',
    config: knativeTestSpec(181),
    steps: [s(0, 1, 21, 26, 1)],
  },
  {
    name: 'TestAutoscalerScale/Autoscaler0TBC',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 50, 49, 5)],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerStableModeNoChange',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 50, 50, 5)],
  },
  {
    // The case of issue 17: in panic Knative provisions for max(stable, panic).
    name: 'TestAutoscalerScale/AutoscalerPanicStableLargerThanPanic',
    config: knativeTestSpec(1),
    start: panicking5sAgoWith5,
    steps: [s(0, 5, 50, 30, 50, { wantPanic: true })],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerPanicStableLessThanPanic',
    config: knativeTestSpec(1),
    start: panicking5sAgoWith5,
    steps: [s(0, 5, 20, 30, 30, { wantPanic: true })],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerStableModeNoChangeAlreadyScaled',
    config: knativeTestSpec(10),
    steps: [s(0, 5, 50, 50, 5)],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerStableModeIncreaseWithSmallScaleUpRate',
    config: knativeTestSpec(1, { maxScaleUpRate: 1.1 }),
    steps: [s(0, 2, 3, 3.1, 3)],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerStableModeDecreaseWithSmallScaleDownRate',
    config: knativeTestSpec(10, { maxScaleDownRate: 1.1 }),
    steps: [s(0, 100, 1, 1, 90)],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerStableModeDecreaseNonReachable',
    config: knativeTestSpec(10, { maxScaleDownRate: 1.1 }),
    steps: [s(0, 100, 1, 1, 1, { reachable: false })],
  },
  {
    name: 'TestAutoscalerScale/AutoscalerPanicModeDoublePodCount',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 50, 100, 10)],
  },
  {
    name: 'TestAutoscalerPanicThenUnPanicScaleDown',
    config: knativeTestSpec(10),
    steps: [
      s(0, 1, 100, 100, 10),
      s(1, 10, 100, 1000, 100, { wantPanic: true }),
      s(1 + 30 * SECOND, 10, 1, 1, 100, { wantPanic: true }), // traffic gone, still in panic
      s(1 + 61 * SECOND, 10, 1, 1, 1, { wantPanic: false }), // down after the stable window
    ],
  },
  {
    name: 'TestAutoscalerRateLimitScaleUp',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 1000, 1001, 10), s(1, 10, 1000, 1001, 100)],
  },
  {
    name: 'TestAutoscalerRateLimitScaleDown',
    config: knativeTestSpec(10),
    steps: [s(0, 100, 1, 1, 10), s(1, 10, 1, 1, 1)],
  },
  {
    name: 'TestAutoscalerUseOnePodAsMinimumIfEndpointsNotFound',
    config: knativeTestSpec(10),
    steps: [s(0, 0, 1000, 888, 10)],
  },
  {
    name: 'TestAutoscalerUpdateTarget',
    config: knativeTestSpec(10),
    steps: [s(0, 1, 100, 101, 10), s(1, 10, 100, 101, 100, { update: knativeTestSpec(1) })],
  },
  {
    // Started with 0 or 1 ready: not in panic; with 2: in panic, holding 2.
    name: 'TestStartInPanicMode (at 0 ready)',
    config: knativeTestSpec(100, { panicThresholdPercent: 22_000 }),
    start: { now: 0, readyReplicas: 0 },
    steps: [s(1, 0, 10, 10, 1, { wantPanic: false })],
  },
  {
    name: 'TestStartInPanicMode (at 1 ready)',
    config: knativeTestSpec(100, { panicThresholdPercent: 22_000 }),
    start: { now: 0, readyReplicas: 1 },
    steps: [s(1, 1, 10, 10, 1, { wantPanic: false })],
  },
  {
    name: 'TestStartInPanicMode (at 2 ready)',
    config: knativeTestSpec(100, { panicThresholdPercent: 22_000 }),
    start: { now: 0, readyReplicas: 2 },
    steps: [s(1, 2, 10, 10, 2, { wantPanic: true })],
  },
  {
    // The pod counter failed at creation: Knative presumes 0 ready, so no panic.
    name: 'TestNewFail',
    config: knativeTestSpec(100, { panicThresholdPercent: 22_000 }),
    start: { now: 0, readyReplicas: 0 },
    steps: [s(1, 2, 10, 10, 1, { wantPanic: false })],
  },
];

/** Knative's cases not ported, or compared in part, and why. Each is a deliberate difference. */
const DIFFERENCES: readonly { readonly knative: string; readonly why: string }[] = [
  {
    knative: 'ExcessBurstCapacity (wantEBC in every case)',
    why: "Flotilla's activator runs inside the gateway and is always in the request path, at no extra hop; Knative computes EBC to decide whether to put its activator in the path, so there is nothing to decide and it is not computed",
  },
  {
    knative: 'TestAutoscalerStableModeIncreaseWithRPS, TestAutoscalerMetricsWithRPS',
    why: "only the concurrency metric is supported (a PaddleService's metric: rps is refused)",
  },
  {
    knative: 'TestAutoscalerStartMetrics and the gauges of TestAutoscalerMetrics',
    why: "OpenTelemetry gauges are Knative's export; Flotilla reports each decision in the log and in flotilla status (TestAutoscalerMetrics' scale figure is ported)",
  },
  {
    knative: 'TestCantCountPods',
    why: 'the fleet counts its own ready replicas, so there is no pod-lister error to turn into an invalid decision',
  },
  {
    knative: 'TestAutoscalerNoDataNoAutoscale: DesiredPodCount 0',
    why: 'without data the decision is invalid in both; Flotilla reports the initial scale as its desired count (the caller keeps what it has either way), so only the validity is compared',
  },
  {
    knative: 'scale-down delay buckets (max.TimeWindow at 2 s granularity)',
    why: "Flotilla's ticks can be 100 ms, so the delay window is kept in continuous time; Knative's delay cases give the same figures",
  },
];

describe("KpaScaler conforms to Knative's autoscaler table (knative/serving, Apache-2.0)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const scaler = new KpaScaler(c.config, c.start);
      c.steps.forEach((step, i) => {
        if (step.update) scaler.update(step.update);
        const d = scaler.decide(
          {
            stableConcurrency: step.stable,
            panicConcurrency: step.panic,
            readyReplicas: step.ready,
            lastActiveAt: undefined,
            ...(step.reachable !== undefined ? { reachable: step.reachable } : {}),
          },
          step.at,
        );
        const where = `step ${i + 1} (${d.reason})`;
        assert.equal(d.valid, !step.wantInvalid, where);
        if (!step.wantInvalid) assert.equal(d.desired, step.want, where);
        if (step.wantPanic !== undefined) assert.equal(d.panic, step.wantPanic, where);
      });
    });
  }

  it('lists every deliberate difference with its reason in docs/up.md too', () => {
    const docs = readFileSync(`${ROOT}docs/up.md`, 'utf8');
    for (const d of DIFFERENCES) {
      for (const name of d.knative.split(/, | and | \(|: /).filter((n) => /^Test|^Excess/.test(n)))
        assert.ok(docs.includes(name), `docs/up.md does not name ${name} (${d.knative})`);
    }
  });
});
