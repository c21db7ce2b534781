import type { RetrySpec } from '../spec/index.js';

/**
 * Envoy's retry budget: retries in flight may not exceed `budgetPercent` of the requests in flight,
 * with a floor of `minRetryConcurrency`, so a failing fleet is not hit by a retry storm on top of
 * its load. One per service; the caller reports starts and ends.
 */
export class RetryBudget {
  private activeRequests = 0;
  private activeRetries = 0;

  constructor(private readonly spec: Pick<RetrySpec, 'budgetPercent' | 'minRetryConcurrency'>) {}

  requestStarted(): void {
    this.activeRequests++;
  }

  requestEnded(): void {
    this.activeRequests--;
  }

  /** Takes a retry from the budget if one is left (true), to be given back with `retryEnded`. */
  tryRetry(): boolean {
    const limit = Math.max(
      this.spec.minRetryConcurrency,
      (this.activeRequests * this.spec.budgetPercent) / 100,
    );
    if (this.activeRetries + 1 > limit) return false;
    this.activeRetries++;
    return true;
  }

  retryEnded(): void {
    this.activeRetries--;
  }

  /** Requests and retries in flight (admin API, tests). */
  snapshot(): { readonly activeRequests: number; readonly activeRetries: number } {
    return { activeRequests: this.activeRequests, activeRetries: this.activeRetries };
  }
}
