import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyCheck, newHealthRecord } from '../../src/gateway/index.js';
import { type Outcome, OutlierDetector } from '../../src/lb/index.js';
import { SERVICE_FILE_DEFAULTS } from '../../src/spec/index.js';

const spec = {
  ...SERVICE_FILE_DEFAULTS.outlierDetection,
  consecutive5xx: 3,
  consecutiveGatewayErrors: 2,
  baseEjectionTimeMs: 1000,
  maxEjectionTimeMs: 2500,
};
const status = (s: number): Outcome => ({ kind: 'response', status: s, latencyMs: 1 });
const refused: Outcome = { kind: 'connect-error', latencyMs: 1 };

describe('outlier detection (simulated clock)', () => {
  it('ejects after consecutive 5xx, and a success resets the count', () => {
    const d = new OutlierDetector(spec);
    assert.equal(d.observe('a', status(503), 0, 4), undefined);
    assert.equal(d.observe('a', status(500), 1, 4), undefined);
    assert.equal(d.observe('a', status(200), 2, 4), undefined);
    assert.equal(d.observe('a', status(503), 3, 4), undefined);
    assert.equal(d.observe('a', status(503), 4, 4), undefined);
    assert.deepEqual(d.observe('a', status(502), 5, 4), {
      reason: 'consecutive_5xx',
      untilMs: 1005,
      durationMs: 1000,
    });
    assert.equal(d.isEjected('a'), true);
  });

  it('ejects after consecutive connection errors or timeouts, not after cancellations', () => {
    const d = new OutlierDetector(spec);
    d.observe('a', { kind: 'cancelled', latencyMs: 1 }, 0, 4);
    d.observe('a', refused, 0, 4);
    d.observe('a', { kind: 'cancelled', latencyMs: 1 }, 0, 4);
    assert.equal(
      d.observe('a', { kind: 'timeout', latencyMs: 1 }, 0, 4)?.reason,
      'consecutive_gateway_errors',
    );
  });

  it('4xx answers are the client’s fault: they never eject', () => {
    const d = new OutlierDetector(spec);
    for (let i = 0; i < 10; i++) assert.equal(d.observe('a', status(400), i, 4), undefined);
  });

  it('releases when the ejection time has passed, and ejects longer on repeats (capped)', () => {
    const d = new OutlierDetector(spec);
    const eject = (now: number) => {
      d.observe('a', refused, now, 4);
      return d.observe('a', refused, now, 4);
    };
    assert.equal(eject(0)?.durationMs, 1000);
    assert.equal(d.nextRelease(), 1000);
    assert.deepEqual(d.release(999), []);
    assert.deepEqual(d.release(1000), ['a']);
    assert.equal(d.isEjected('a'), false);
    assert.equal(eject(1100)?.durationMs, 2000, 'second ejection: base × 2');
    d.release(3100);
    assert.equal(eject(3200)?.durationMs, 2500, 'third: base × 3, capped at maxEjectionTime');
    assert.equal(d.ejections('a'), 3);
  });

  it('forgives old ejections: the multiplier decays by one per healthy base ejection time', () => {
    const d = new OutlierDetector(spec);
    const eject = (now: number) => {
      d.observe('a', refused, now, 4);
      return d.observe('a', refused, now, 4);
    };
    eject(0);
    d.release(1000);
    // 5 s healthy: the one ejection is forgotten, so the next is base × 1 again.
    assert.equal(eject(6000)?.durationMs, 1000);
  });

  it('never ejects more than maxEjectionPercent, nor the last replica', () => {
    const d = new OutlierDetector({ ...spec, maxEjectionPercent: 50 });
    const eject = (id: string, n: number) => {
      d.observe(id, refused, 0, n);
      return d.observe(id, refused, 0, n);
    };
    assert.ok(eject('a', 4));
    assert.ok(eject('b', 4));
    assert.equal(eject('c', 4), undefined, 'a third of four would pass 50 %');
    const single = new OutlierDetector(spec);
    single.observe('x', refused, 0, 1);
    assert.equal(single.observe('x', refused, 0, 1), undefined);
    // With two replicas one may go, whatever the percentage (Envoy ejects at least one).
    const two = new OutlierDetector({ ...spec, maxEjectionPercent: 10 });
    two.observe('x', refused, 0, 2);
    assert.ok(two.observe('x', refused, 0, 2));
  });

  it('forgets a removed replica, freeing its share of the ejection limit', () => {
    const d = new OutlierDetector({ ...spec, maxEjectionPercent: 50 });
    d.observe('a', refused, 0, 2);
    d.observe('a', refused, 0, 2);
    d.remove('a');
    d.observe('b', refused, 0, 2);
    assert.ok(d.observe('b', refused, 0, 2));
  });
});

describe('active health thresholds', () => {
  it('turns unhealthy after unhealthyThreshold failures and back after healthyThreshold passes', () => {
    const t = { healthyThreshold: 2, unhealthyThreshold: 3 };
    const r = newHealthRecord();
    assert.equal(applyCheck(r, false, t, 'HTTP 503'), false);
    assert.equal(applyCheck(r, false, t), false);
    assert.equal(applyCheck(r, true, t), false);
    assert.equal(applyCheck(r, false, t), false);
    assert.equal(applyCheck(r, false, t), false);
    assert.equal(applyCheck(r, false, t, 'HTTP 503'), true);
    assert.equal(r.healthy, false);
    assert.equal(r.lastError, 'HTTP 503');
    assert.equal(applyCheck(r, true, t), false);
    assert.equal(applyCheck(r, true, t), true);
    assert.equal(r.healthy, true);
    assert.equal(r.lastError, undefined);
  });
});
