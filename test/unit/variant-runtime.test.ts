import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyTracker } from '../../src/autoscaler/index.js';
import { silentLogger, systemRandom } from '../../src/core/index.js';
import { VariantRuntime } from '../../src/gateway/runtime/variant-runtime.js';
import { LeastRequestBalancer } from '../../src/lb/index.js';
import { parseServiceFile } from '../../src/spec/index.js';

const spec = parseServiceFile(
  { services: { m: { variants: [{ tag: 'a', command: 'x' }] } } },
  'services.yaml',
).services[0]!.variants[0]!;

/**
 * VariantRuntime re-implemented the concurrency integral the autoscaler's tests pinned on
 * ConcurrencyTracker; production now counts with that class. The same events give the same
 * figures in both, on a simulated clock.
 */
describe('VariantRuntime measures load with the autoscaler ConcurrencyTracker', () => {
  it('in flight, its exact integral and the last active time, as the tracker gives them', () => {
    let now = 0;
    const v = new VariantRuntime('m', spec, undefined, {
      clock: { now: () => now },
      logger: silentLogger,
      upstream: { connectionsPerReplica: 1, keepAliveTimeoutMs: 1000, connectTimeoutMs: 1000 },
      newBalancer: () => new LeastRequestBalancer({}, { random: systemRandom }),
      onReplica: () => {},
    });
    const t = new ConcurrencyTracker(0);
    const both = (at: number, f: () => void, g: () => void): void => {
      now = at;
      f();
      g();
    };
    assert.equal(v.lastActiveAt(), undefined);
    both(
      0,
      () => v.requestStarted(),
      () => t.begin(0),
    );
    both(
      0,
      () => v.requestStarted(),
      () => t.begin(0),
    );
    both(
      500,
      () => v.requestEnded(false, 500),
      () => t.end(500),
    );
    now = 1000;
    assert.deepEqual(
      [v.inflight, v.concurrencyIntegral(), v.lastActiveAt()],
      [t.current, t.integral(1000), t.lastActiveAt(1000)],
    );
    assert.deepEqual([v.inflight, v.concurrencyIntegral(), v.lastActiveAt()], [1, 1500, 1000]);
    both(
      1000,
      () => v.requestEnded(true, 1000),
      () => t.end(1000),
    );
    now = 2000;
    assert.deepEqual([v.inflight, v.concurrencyIntegral(), v.lastActiveAt()], [0, 1500, 1000]);
    assert.equal(t.integral(2000), 1500);
    assert.deepEqual([v.requests, v.errors], [2, 1]);
  });
});
