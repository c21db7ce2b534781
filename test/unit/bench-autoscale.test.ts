import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  busyTicksOf,
  coldStartsFromLog,
  logFields,
  othersCores,
  ownTicksOf,
  perReadyReplicaRate,
  perSecond,
  stepTimings,
  summarize,
} from '../../bench/autoscale.js';

describe('bench/autoscale helpers', () => {
  it('summarizes a sample: median of odd and even counts, min, max; NaN when empty', () => {
    assert.deepEqual(summarize([5, 1, 3]), { n: 3, median: 3, min: 1, max: 5 });
    assert.deepEqual(summarize([4, 1, 3, 2]), { n: 4, median: 2.5, min: 1, max: 4 });
    assert.ok(Number.isNaN(summarize([]).median));
    assert.equal(summarize([Number.NaN, 2]).n, 1);
  });

  it('reads key=value fields, quoted values included', () => {
    const line =
      '2026-11-21T23:48:48.392Z info  replica service=mnist variant=stable coldStartMs=605 decision="scaled from zero: mnist/stable#2 ready 605 ms after the first request"';
    const f = logFields(line);
    assert.equal(f['service'], 'mnist');
    assert.equal(f['coldStartMs'], '605');
    assert.equal(f['decision'], 'scaled from zero: mnist/stable#2 ready 605 ms after the first request');
  });

  it('finds every logged coldStartMs in order', () => {
    const log = [
      'x info  listening http=http://127.0.0.1:1 admin=http://127.0.0.1:1',
      'x info  replica service=a variant=s coldStartMs=410 decision="scaled from zero: a ready 410 ms"',
      'x info  replica service=a variant=s decision="a/s#3 ready in 300 ms at 127.0.0.1:2"',
      'x info  replica service=a variant=s coldStartMs=233 decision="scaled from zero: b"',
    ].join('\n');
    assert.deepEqual(coldStartsFromLog(log), [410, 233]);
  });

  it('times a load step: first scale-up, desired at its peak, ready at the peak', () => {
    const samples = [
      { atMs: 900, desired: 1, ready: 1 },
      { atMs: 1050, desired: 1, ready: 1 },
      { atMs: 1300, desired: 3, ready: 1 },
      { atMs: 1400, desired: 4, ready: 1 },
      { atMs: 2000, desired: 4, ready: 3 },
      { atMs: 2600, desired: 4, ready: 4 },
    ];
    assert.deepEqual(stepTimings(samples, 1000), {
      before: { desired: 1, ready: 1 },
      peakDesired: 4,
      firstScaleUpMs: 300,
      desiredPeakMs: 400,
      readyAtPeakMs: 1600,
    });
  });

  it('reports no scale-up when desired never rises, and no ready time before replicas catch up', () => {
    const flat = stepTimings(
      [
        { atMs: 0, desired: 2, ready: 2 },
        { atMs: 500, desired: 2, ready: 2 },
      ],
      100,
    );
    assert.equal(flat.firstScaleUpMs, undefined);
    assert.equal(flat.desiredPeakMs, undefined);
    assert.equal(flat.readyAtPeakMs, undefined);
    const short = stepTimings(
      [
        { atMs: 0, desired: 1, ready: 1 },
        { atMs: 200, desired: 3, ready: 2 },
      ],
      100,
    );
    assert.equal(short.desiredPeakMs, 100);
    assert.equal(short.readyAtPeakMs, undefined);
  });

  it('counts completions per whole second, leaving out a partial last second', () => {
    assert.deepEqual(perSecond([10, 999, 1000, 2500, 3001], 3050), [2, 1, 1]);
    assert.deepEqual(perSecond([], 200), [0]);
  });
});

describe('bench/autoscale: CPU used by other processes', () => {
  it('reads busy ticks from /proc/stat and own ticks from /proc/self/stat', () => {
    assert.equal(busyTicksOf('cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n'), 161);
    const self =
      '4242 (node my (odd) name) S 1 4242 4242 0 -1 4194304 100 0 0 0 70 30 12 8 20 0 11 0 123 456 789';
    assert.equal(ownTicksOf(self), 120);
  });

  it('turns two marks into cores kept busy by others', () => {
    const a = { atMs: 0, busyTicks: 1000, mineTicks: 100 };
    const b = { atMs: 2000, busyTicks: 1400, mineTicks: 300 };
    assert.equal(othersCores(a, b), 1);
    assert.equal(othersCores(undefined, b), undefined);
    assert.equal(othersCores(b, b), undefined);
  });

  it('rates answers per ready replica: answers ÷ ∫ ready dt, ready held between samples', () => {
    const samples = [
      { atMs: 900, desired: 1, ready: 1 },
      { atMs: 2000, desired: 4, ready: 1 },
      { atMs: 3000, desired: 4, ready: 3 },
    ];
    // Step at 1000: ready 1 over [0, 2000), 3 over [2000, 4000) -> 8 replica-seconds.
    const answers = Array.from({ length: 80 }, (_, i) => i * 50); // 20/s over 4 s
    assert.equal(perReadyReplicaRate(answers, samples, 1000, 0, 4000), 10);
    assert.equal(perReadyReplicaRate(answers, samples, 1000, 0, 1000), 20);
    assert.equal(perReadyReplicaRate(answers, samples, 1000, 2000, 4000), 20 / 3);
    // Before the first sample its ready count holds; nothing ready or nothing measured: undefined.
    assert.equal(perReadyReplicaRate([0, 10], [{ atMs: 5000, desired: 1, ready: 2 }], 0, 0, 1000), 1);
    assert.equal(perReadyReplicaRate([0], [{ atMs: 0, desired: 1, ready: 0 }], 0, 0, 1000), undefined);
    assert.equal(perReadyReplicaRate([0], samples, 0, 1000, 1000), undefined);
    assert.equal(perReadyReplicaRate([0], [], 0, 0, 1000), undefined);
  });
});
