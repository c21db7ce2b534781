import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideSwitch, isStable, LatencyHistogram, mergeCuts, Recorder } from '../../src/bench/index.js';

const w = (throughput: number, p99Ms: number) => ({ throughput, p99Ms });

describe('isStable: the last three windows within ±10 %', () => {
  const cases: [string, ReturnType<typeof w>[], boolean][] = [
    ['fewer than three windows', [w(100, 5), w(100, 5)], false],
    ['three equal windows', [w(100, 5), w(100, 5), w(100, 5)], true],
    ['within 10 % of the mean', [w(95, 5), w(100, 5.2), w(105, 4.8)], true],
    ['throughput 15 % off', [w(85, 5), w(100, 5), w(115, 5)], false],
    ['p99 off while throughput is steady', [w(100, 5), w(100, 5), w(100, 8)], false],
    ['only the last three count', [w(10, 50), w(100, 5), w(101, 5), w(99, 5)], true],
    ['a warming level', [w(50, 9), w(80, 7), w(100, 5)], false],
    ['nothing answered three times: steady', [w(0, 0), w(0, 0), w(0, 0)], true],
    ['one empty window among busy ones', [w(0, 0), w(100, 5), w(100, 5)], false],
  ];
  for (const [name, windows, expected] of cases) it(name, () => assert.equal(isStable(windows), expected));

  it('takes another tolerance and window count', () => {
    assert.equal(isStable([w(85, 5), w(100, 5), w(115, 5)], { windows: 3, tolerance: 0.2 }), true);
    assert.equal(isStable([w(100, 5), w(100, 5)], { windows: 2, tolerance: 0.1 }), true);
  });
});

describe('decideSwitch: seed 003 change_server', () => {
  const policy = { maxViolationRate: 0.1, endpoints: 2 };
  const cases: [string, { requests: number; violations: number }, number, typeof policy, boolean, number?][] =
    [
      ['under the rate: stay', { requests: 100, violations: 10 }, 0, policy, false],
      ['over the rate: next endpoint', { requests: 100, violations: 11 }, 0, policy, true, 1],
      ['from the last endpoint back to the first', { requests: 10, violations: 10 }, 1, policy, true, 0],
      ['no request in the window says nothing', { requests: 0, violations: 0 }, 0, policy, false],
      [
        'one endpoint has nowhere to go',
        { requests: 10, violations: 10 },
        0,
        { maxViolationRate: 0.1, endpoints: 1 },
        false,
      ],
      [
        'three endpoints go round',
        { requests: 10, violations: 5 },
        1,
        { maxViolationRate: 0.1, endpoints: 3 },
        true,
        2,
      ],
    ];
  for (const [name, window, active, p, expected, to] of cases)
    it(name, () => {
      const d = decideSwitch(window, active, p);
      assert.equal(d.switch, expected);
      if (d.switch) assert.equal(d.to, to);
      assert.equal(d.violationRate, window.requests === 0 ? 0 : window.violations / window.requests);
    });
});

describe('Recorder', () => {
  it('counts requests, errors, violations, accuracy and breakdowns per window', () => {
    const r = new Recorder({ endpoints: 2, latencyThresholdMs: 10 });
    r.sent(0);
    r.sent(2);
    r.record(0, 5, { ok: true, variant: 'stable', replica: 'a', labeled: 1, correct: 1 });
    r.record(0, 20, { ok: true, variant: 'canary', replica: 'b', labeled: 1, correct: 0 });
    r.record(1, 1, { ok: false, error: 'HTTP 503: busy' });
    const { stats } = r.cut(0, 1000);
    assert.equal(stats.requests, 3);
    assert.equal(stats.errors, 1);
    assert.equal(stats.sent, 2);
    assert.equal(stats.throughput, 2);
    assert.equal(stats.violations, 2);
    assert.deepEqual(stats.endpoints, [
      { requests: 2, violations: 1 },
      { requests: 1, violations: 1 },
    ]);
    assert.equal(stats.labeled, 2);
    assert.equal(stats.correct, 1);
    assert.equal(stats.latency.count, 2);
    assert.ok(Math.abs(stats.latency.maxMs - 20) < 0.05);
    assert.deepEqual([...r.variants.keys()], ['stable', 'canary']);
    assert.equal(r.variants.get('canary')!.replicas.get('b')!.requests, 1);
    assert.deepEqual([...r.errorKinds], [['HTTP 503: busy', 1]]);
    // The next window starts empty.
    assert.equal(r.cut(1000, 2000).stats.requests, 0);
  });

  it('merges a drain tail into the last window', () => {
    const r = new Recorder({ endpoints: 1 });
    r.record(0, 1, { ok: true });
    const a = r.cut(0, 1000);
    r.record(0, 3, { ok: true });
    r.record(0, 3, { ok: false });
    const b = r.cut(1000, 1500);
    const m = mergeCuts(a, b);
    assert.equal(m.stats.requests, 3);
    assert.equal(m.stats.errors, 1);
    // The drain's answers count; the time spent draining does not (rates are over the sending time).
    assert.equal(m.stats.durationMs, 1000);
    assert.equal(m.stats.latency.count, 2);
    assert.equal(m.stats.throughput, 2);
  });
});

describe('LatencyHistogram', () => {
  it('records µs and reports ms percentiles including p95', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.recordUs(i * 1000);
    const s = h.summary();
    assert.equal(s.count, 1000);
    for (const [got, want] of [
      [s.p50Ms, 500],
      [s.p90Ms, 900],
      [s.p95Ms, 950],
      [s.p99Ms, 990],
      [s.maxMs, 1000],
    ] as const)
      assert.ok(Math.abs(got - want) / want < 0.002, `${got} vs ${want}`);
    h.reset();
    assert.equal(h.count, 0);
    assert.equal(h.percentileMs(99), 0);
  });
});
