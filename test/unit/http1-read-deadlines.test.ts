import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeadlineSweeper,
  type ReadProgress,
  readOverdue,
  type SweepTimers,
  sweepIntervalMs,
} from '../../src/protocol/http1/index.js';

const limits = { headerTimeoutMs: 10_000, bodyTimeoutMs: 20_000, bodyMinRate: 500 };

describe('read deadlines (slowloris: issue 19 finding 4)', () => {
  const cases: [string, ReadProgress, number, 'head' | 'body' | undefined][] = [
    ['an idle keep-alive connection never', { kind: 'idle' }, 1e9, undefined],
    ['a head at its deadline is not yet overdue', { kind: 'head', since: 1000 }, 11_000, undefined],
    ['a head one ms past its deadline is', { kind: 'head', since: 1000 }, 11_001, 'head'],
    ['a slowloris head, one byte every 10 s, at 30 s', { kind: 'head', since: 0 }, 30_000, 'head'],
    ['a body with nothing received, within 20 s', { kind: 'body', since: 0, received: 0 }, 20_000, undefined],
    ['a body with nothing received, after 20 s', { kind: 'body', since: 0, received: 0 }, 20_001, 'body'],
    // 10,000 bytes at the minimum rate earn 20 s more: 40 s in all.
    ['a body keeping the minimum rate', { kind: 'body', since: 0, received: 10_000 }, 40_000, undefined],
    ['a body trickling below it', { kind: 'body', since: 0, received: 10_000 }, 40_001, 'body'],
  ];
  for (const [what, progress, now, expected] of cases) {
    it(`${what}: ${expected ?? 'not overdue'}`, () =>
      assert.equal(readOverdue(progress, now, limits), expected));
  }

  it('checks at a quarter of the shortest deadline, between 50 ms and 1 s', () => {
    assert.equal(sweepIntervalMs(limits), 1000);
    assert.equal(sweepIntervalMs({ ...limits, headerTimeoutMs: 400 }), 100);
    assert.equal(sweepIntervalMs({ ...limits, headerTimeoutMs: 10 }), 50);
  });

  it('the sweeper cuts each overdue connection once, on a fake clock and timer', () => {
    let now = 0;
    let tick: (() => void) | undefined;
    let interval = 0;
    const timers: SweepTimers = {
      every(ms, fn) {
        interval = ms;
        tick = fn;
        return () => (tick = undefined);
      },
    };
    const sweeper = new DeadlineSweeper(limits, () => now, timers);
    const cut: string[] = [];
    const conn = (name: string, progress: () => ReadProgress) => ({
      readProgress: progress,
      overdue: (which: 'head' | 'body') => cut.push(`${name}:${which}`),
    });
    sweeper.add(conn('slow', () => ({ kind: 'head', since: 0 })));
    sweeper.add(conn('idle', () => ({ kind: 'idle' })));
    sweeper.add(conn('body', () => ({ kind: 'body', since: 0, received: 0 })));
    assert.equal(interval, 1000);
    now = 10_000;
    tick!();
    assert.deepEqual(cut, []);
    now = 10_001;
    tick!();
    assert.deepEqual(cut, ['slow:head']);
    now = 30_000;
    tick!();
    assert.deepEqual(cut, ['slow:head', 'body:body']);
    sweeper.close();
    assert.equal(tick, undefined);
  });
});
