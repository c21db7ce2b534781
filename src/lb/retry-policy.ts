import type { Outcome } from './balancer.js';
import type { RetryBudget } from './retry-budget.js';

/** Statuses worth a try on another replica: the replica, not the request, is at fault. */
const RETRY_STATUSES = new Set([502, 503]);

/** Whether an outcome may be retried on another replica (before any answer reached the client). */
export function isRetryable(outcome: Outcome): boolean {
  switch (outcome.kind) {
    case 'response':
      return RETRY_STATUSES.has(outcome.status);
    case 'connect-error':
    case 'reset':
    case 'timeout':
      return true;
    case 'cancelled':
      return false;
  }
}

/** A status the gateway retries when it sees it in response headers. */
export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

/** What decides a retry besides the outcome. */
export interface RetryContext {
  /** Retries already made for this request. */
  readonly retries: number;
  readonly maxRetries: number;
  /** False when the body was streamed to the replica and cannot be sent again. */
  readonly replayable: boolean;
  /** Milliseconds left before the overall timeout. */
  readonly remainingMs: number;
}

/**
 * Whether a retry after `outcome` takes a slot of the retry budget. The budget stops retries from
 * multiplying the work of a fleet failing under load (Envoy's); a try that could not connect
 * (refused, unreachable, connect timeout) reached no replica, so its retry is the request's first
 * real try, not extra work. Charged, such retries would spend the budget just when a replica dies
 * under load: every request on its way there fails within a moment, and the loss of one replica
 * would turn into failed requests.
 */
export function chargesRetryBudget(outcome: Outcome): boolean {
  return outcome.kind !== 'connect-error';
}

/** Whether to try again (the retry budget is asked separately, last, as it is consumed). */
export function shouldRetry(outcome: Outcome, ctx: RetryContext): boolean {
  return ctx.replayable && ctx.retries < ctx.maxRetries && ctx.remainingMs > 0 && isRetryable(outcome);
}

/**
 * The whole retry decision both data paths make: `no`, a retry that costs no budget slot, or one
 * that took a slot (to give back with `retryEnded` when that try ends). The budget is asked last,
 * as asking takes the slot.
 */
export function claimRetry(
  outcome: Outcome,
  ctx: RetryContext,
  budget: RetryBudget,
  charged: boolean = chargesRetryBudget(outcome),
): 'no' | 'free' | 'slot' {
  if (!shouldRetry(outcome, ctx)) return 'no';
  if (!charged) return 'free';
  return budget.tryRetry() ? 'slot' : 'no';
}
