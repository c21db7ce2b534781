import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kpaConfigOf } from '../../src/autoscaler/index.js';
import { ConfigError } from '../../src/core/index.js';
import {
  KNATIVE_SCALE_DEFAULTS,
  PADDLE_SERVICE_DEFAULTS,
  paddleServiceToServiceFile,
  parseServiceFile,
  SERVICE_FILE_DEFAULTS,
} from '../../src/spec/index.js';

const managed = (scale?: Record<string, unknown>) =>
  parseServiceFile(
    { services: { m: { variants: [{ tag: 'a', command: 'x', ...(scale ? { scale } : {}) }] } } },
    'services.yaml',
  ).services[0]!.variants[0]!.scale!;

/**
 * The scaling defaults were written three times in three units (the service file's, the
 * autoscaler's KPA_DEFAULTS with panic threshold 2 and window share 0.1, the PaddleService's with
 * utilization 70 and window "60s"); now once, pinned here literally.
 */
describe('scaling defaults: one source', () => {
  it("pins Knative's defaults in the service file's units", () => {
    assert.deepEqual(KNATIVE_SCALE_DEFAULTS, {
      targetConcurrency: 100,
      targetUtilization: 0.7,
      stableWindowMs: 60_000,
      panicWindowPercent: 10,
      panicThresholdPercent: 200,
      maxScaleUpRate: 1000,
      maxScaleDownRate: 2,
      scaleToZeroAfterMs: 30_000,
      scaleDownDelayMs: 0,
      activationScale: 1,
      containerConcurrency: 0,
    });
    assert.ok(Object.isFrozen(KNATIVE_SCALE_DEFAULTS));
  });

  it("pins the service file's: Knative's, sized for one machine", () => {
    assert.deepEqual(SERVICE_FILE_DEFAULTS.scale, {
      targetConcurrency: 4,
      targetUtilization: 0.7,
      stableWindowMs: 60_000,
      panicWindowPercent: 10,
      panicThresholdPercent: 200,
      maxScaleUpRate: 1000,
      maxScaleDownRate: 2,
      scaleToZeroAfterMs: 30_000,
      scaleDownDelayMs: 0,
      activationScale: 1,
      containerConcurrency: 0,
      min: 1,
      max: 4,
    });
    assert.ok(Object.isFrozen(SERVICE_FILE_DEFAULTS.scale));
    assert.deepEqual(PADDLE_SERVICE_DEFAULTS, {
      namespace: 'default',
      domain: 'example.com',
      canaryTrafficPercent: 0,
      minScale: 1,
      maxScale: 10,
    });
  });

  it('a variant without scale: gets them, and the autoscaler reads exactly those', () => {
    const scale = managed();
    assert.deepEqual(kpaConfigOf(scale), {
      targetConcurrency: 4,
      targetUtilization: 0.7,
      stableWindowMs: 60_000,
      panicWindowPercent: 10,
      panicThresholdPercent: 200,
      maxScaleUpRate: 1000,
      maxScaleDownRate: 2,
      min: 1,
      max: 4,
      initialScale: 1,
      activationScale: 1,
      scaleToZeroAfterMs: 30_000,
      scaleDownDelayMs: 0,
    });
    assert.equal(scale.containerConcurrency, 0);
  });

  it("a PaddleService without service: gets Knative's (ElasticServing keeps them)", () => {
    const file = paddleServiceToServiceFile(
      [
        {
          apiVersion: 'elasticserving.paddlepaddle.org/v1',
          kind: 'PaddleService',
          metadata: { name: 'p' },
          spec: { default: { command: 'x' } },
        },
      ],
      'p.yaml',
    );
    const k = kpaConfigOf(file.services[0]!.variants[0]!.scale!);
    assert.deepEqual(
      [k.min, k.max, k.targetConcurrency, k.targetUtilization, k.stableWindowMs],
      [1, 10, 100, 0.7, 60_000],
    );
    assert.deepEqual([k.panicWindowPercent, k.panicThresholdPercent], [10, 200]);
  });

  it('reads scaleDownDelay, activationScale and containerConcurrency, and refuses bad ones', () => {
    const s = managed({ scaleDownDelay: '5m', activationScale: 3, containerConcurrency: 8 });
    assert.deepEqual([s.scaleDownDelayMs, s.activationScale, s.containerConcurrency], [300_000, 3, 8]);
    for (const [scale, why] of [
      [{ containerConcurrency: -1 }, /scale\.containerConcurrency: Too small/],
      [{ containerConcurrency: 1.5 }, /scale\.containerConcurrency: .*expected int/],
      [{ activationScale: 0 }, /scale\.activationScale: Too small/],
      [{ scaleDownDelay: 'soon' }, /scale\.scaleDownDelay: a duration with a unit/],
    ] as const) {
      assert.throws(
        () => managed(scale),
        (e: unknown) => e instanceof ConfigError && why.test(e.message),
      );
    }
  });
});
