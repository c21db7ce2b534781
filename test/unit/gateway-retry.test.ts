import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chargesRetryBudget,
  claimRetry,
  isRetryable,
  type Outcome,
  RetryBudget,
  shouldRetry,
} from '../../src/lb/index.js';

describe('retry policy', () => {
  const cases: [Outcome, boolean][] = [
    [{ kind: 'connect-error', latencyMs: 1 }, true],
    [{ kind: 'reset', latencyMs: 1 }, true],
    [{ kind: 'timeout', latencyMs: 1 }, true],
    [{ kind: 'response', status: 502, latencyMs: 1 }, true],
    [{ kind: 'response', status: 503, latencyMs: 1 }, true],
    [{ kind: 'response', status: 500, latencyMs: 1 }, false],
    [{ kind: 'response', status: 504, latencyMs: 1 }, false],
    [{ kind: 'response', status: 429, latencyMs: 1 }, false],
    [{ kind: 'response', status: 200, latencyMs: 1 }, false],
    [{ kind: 'cancelled', latencyMs: 1 }, false],
  ];
  for (const [outcome, want] of cases) {
    it(`${outcome.kind}${'status' in outcome ? ` ${outcome.status}` : ''}: ${want ? 'retry' : 'no retry'}`, () =>
      assert.equal(isRetryable(outcome), want));
  }

  it('stops at maxRetries, for streamed bodies and past the overall deadline', () => {
    const refused: Outcome = { kind: 'connect-error', latencyMs: 1 };
    const ctx = { retries: 0, maxRetries: 2, replayable: true, remainingMs: 100 };
    assert.equal(shouldRetry(refused, ctx), true);
    assert.equal(shouldRetry(refused, { ...ctx, retries: 2 }), false);
    assert.equal(shouldRetry(refused, { ...ctx, replayable: false }), false);
    assert.equal(shouldRetry(refused, { ...ctx, remainingMs: 0 }), false);
  });

  it('charges the retry budget for every retry but those of refused connections', () => {
    // A refused (or unanswered) connect reached no replica: its retry is no extra work for the
    // fleet. Resets, timeouts and 502/503 answers may have left work behind, or came from load.
    assert.equal(chargesRetryBudget({ kind: 'connect-error', latencyMs: 1 }), false);
    assert.equal(chargesRetryBudget({ kind: 'reset', latencyMs: 1 }), true);
    assert.equal(chargesRetryBudget({ kind: 'timeout', latencyMs: 1 }), true);
    assert.equal(chargesRetryBudget({ kind: 'response', status: 503, latencyMs: 1 }), true);
  });
});

describe('claimRetry', () => {
  const ctx = { retries: 0, maxRetries: 2, replayable: true, remainingMs: 100 };
  const refused: Outcome = { kind: 'connect-error', latencyMs: 1 };
  const reset: Outcome = { kind: 'reset', latencyMs: 1 };

  it('takes a slot for a charged retry, none for a free one, and says no when either rule does', () => {
    const budget = new RetryBudget({ budgetPercent: 0, minRetryConcurrency: 1 });
    assert.equal(claimRetry(refused, ctx, budget), 'free');
    assert.equal(claimRetry(reset, ctx, budget, false), 'free', 'the caller may waive the charge');
    assert.equal(claimRetry(reset, ctx, budget), 'slot');
    assert.equal(claimRetry(reset, ctx, budget), 'no', 'the one slot is taken');
    assert.equal(claimRetry(refused, ctx, budget), 'free', 'a free retry needs no slot');
    budget.retryEnded();
    assert.equal(claimRetry(reset, { ...ctx, retries: 2 }, budget), 'no');
    assert.equal(claimRetry(reset, ctx, budget), 'slot', 'a refused retry took no slot');
  });
});

describe('retry budget', () => {
  it('allows minRetryConcurrency retries at low load', () => {
    const b = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 3 });
    b.requestStarted();
    assert.equal(b.tryRetry(), true);
    assert.equal(b.tryRetry(), true);
    assert.equal(b.tryRetry(), true);
    assert.equal(b.tryRetry(), false);
    b.retryEnded();
    assert.equal(b.tryRetry(), true);
  });

  it('allows budgetPercent of the requests in flight at high load', () => {
    const b = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 3 });
    for (let i = 0; i < 100; i++) b.requestStarted();
    let granted = 0;
    while (b.tryRetry()) granted++;
    assert.equal(granted, 20);
    for (let i = 0; i < 50; i++) b.requestEnded();
    b.retryEnded();
    assert.equal(b.tryRetry(), false, '19 retries in flight over a budget of 10');
    assert.deepEqual(b.snapshot(), { activeRequests: 50, activeRetries: 19 });
  });

  it('a budget of zero turns retries off', () => {
    const b = new RetryBudget({ budgetPercent: 0, minRetryConcurrency: 0 });
    b.requestStarted();
    assert.equal(b.tryRetry(), false);
  });
});
