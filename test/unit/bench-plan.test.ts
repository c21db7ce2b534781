import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BenchArgumentError, parseSweep, SendSchedule } from '../../src/bench/index.js';
import { seededRandom } from '../../src/core/index.js';

const concurrency = { flag: '--concurrency', integer: true, min: 1, minInclusive: true };
const rate = { flag: '--request-rate', integer: false, min: 0, minInclusive: false };

describe('parseSweep: perf_analyzer start:end:step', () => {
  const cases: [string, typeof concurrency, number[]][] = [
    ['4', concurrency, [4]],
    ['1:4', concurrency, [1, 2, 3, 4]],
    ['1:16:2', concurrency, [1, 3, 5, 7, 9, 11, 13, 15]],
    ['2:16:2', concurrency, [2, 4, 6, 8, 10, 12, 14, 16]],
    ['100:500:100', rate, [100, 200, 300, 400, 500]],
    ['0.5:1.1:0.2', rate, [0.5, 0.7, 0.9, 1.1]],
    [' 8 ', concurrency, [8]],
  ];
  for (const [text, rules, expected] of cases)
    it(`${JSON.stringify(text)} -> ${expected.join(',')}`, () =>
      assert.deepEqual(parseSweep(text, rules), expected));

  const bad: [string, typeof concurrency, RegExp][] = [
    ['16:1:2', concurrency, /end 1 is below start 16/],
    ['0', concurrency, /start 0 must be at least 1/],
    ['0', rate, /start 0 must be above 0/],
    ['1.5', concurrency, /not a whole number/],
    ['1:4:0', concurrency, /step 0 must be above 0/],
    ['1:4:-1', concurrency, /step -1 must be above 0/],
    ['a:4', concurrency, /start "a" is not a number/],
    ['1:', concurrency, /end "" is not a number/],
    ['1:2:3:4', concurrency, /expected start\[:end\[:step\]\]/],
    ['1:100000', concurrency, /100000 levels; at most 1000/],
  ];
  for (const [text, rules, message] of bad)
    it(`refuses ${JSON.stringify(text)} (${rules.flag})`, () => {
      assert.throws(
        () => parseSweep(text, rules),
        (err: unknown) =>
          err instanceof BenchArgumentError &&
          err.code === 'FLT_BENCH_INVALID_ARGUMENT' &&
          message.test(err.message),
      );
    });
});

describe('SendSchedule: open-loop intended send times', () => {
  it('spaces constant requests exactly 1/rate apart from the start, without drift', () => {
    const s = new SendSchedule(1000, 300, 'constant', seededRandom(1));
    const times = Array.from({ length: 300_001 }, () => s.next());
    assert.equal(times[0], 1000);
    assert.ok(Math.abs(times[1]! - (1000 + 1000 / 300)) < 1e-9);
    // 300,000 requests at 300/s end exactly 1,000 s later.
    assert.ok(Math.abs(times[300_000]! - 1_001_000) < 1e-6);
  });

  it('gives Poisson gaps with mean 1/rate and the spread of an exponential (seeded, 100k gaps)', () => {
    const s = new SendSchedule(0, 500, 'poisson', seededRandom(42));
    let prev = s.next();
    const gaps: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const t = s.next();
      gaps.push(t - prev);
      prev = t;
    }
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    assert.ok(Math.abs(mean - 2) / 2 < 0.01, `mean gap ${mean} ms`);
    // An exponential's standard deviation equals its mean.
    assert.ok(Math.abs(sd - 2) / 2 < 0.02, `sd ${sd} ms`);
    assert.ok(gaps.every((g) => g >= 0));
  });

  it('is reproducible from the seed', () => {
    const a = new SendSchedule(0, 100, 'poisson', seededRandom(7));
    const b = new SendSchedule(0, 100, 'poisson', seededRandom(7));
    for (let i = 0; i < 1000; i++) assert.equal(a.next(), b.next());
  });

  it('refuses a rate of 0', () => {
    assert.throws(() => new SendSchedule(0, 0, 'constant', seededRandom(1)), RangeError);
  });
});

describe('seededRandom', () => {
  it('stays in [0, 1) and is roughly uniform', () => {
    const r = seededRandom(3);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const v = r.next();
      assert.ok(v >= 0 && v < 1);
      buckets[Math.floor(v * 10)]++;
    }
    for (const b of buckets) assert.ok(Math.abs(b - 10_000) < 500, `bucket ${b}`);
  });
});
