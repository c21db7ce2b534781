/**
 * The dynamic batcher's decision, as a pure function of the queue and the time (Triton's
 * semantics): grow a batch toward the largest preferred size (or max_batch_size), and dispatch
 * when it is full, when it cannot grow (the next request has other trailing dimensions or would
 * overflow), or when the oldest request has waited max_queue_delay. Order is preserved: a batch
 * is always a prefix of the queue.
 */

export interface BatchPolicyConfig {
  /** Largest batch (sum of the requests' first dimensions). */
  readonly maxBatchSize: number;
  /** Batch sizes to aim for; empty means aim for maxBatchSize. */
  readonly preferredBatchSizes: readonly number[];
  /** How long the oldest request may wait for a fuller batch; 0 dispatches whatever is queued. */
  readonly maxQueueDelayMs: number;
}

/** What the policy needs to know of a queued request. */
export interface QueuedItem {
  /** The request's batch dimension. */
  readonly size: number;
  /** When it was queued (ms, same clock as `now`). */
  readonly arrivedAt: number;
  /** Requests join only with the same key: datatypes and every dimension but the first. */
  readonly key: string;
}

export type BatchDecision =
  | { readonly kind: 'dispatch'; readonly count: number; readonly size: number }
  | { readonly kind: 'wait'; readonly untilMs: number }
  | { readonly kind: 'idle' };

/** Called when an instance can take a batch: which prefix of the queue to send, or how long to wait. */
export function decideBatch(
  queue: readonly QueuedItem[],
  now: number,
  config: BatchPolicyConfig,
): BatchDecision {
  const head = queue[0];
  if (!head) return { kind: 'idle' };
  // The longest prefix that can form one batch, and the running total after each item.
  const totals: number[] = [];
  let total = 0;
  for (const item of queue) {
    if (item.key !== head.key || total + item.size > config.maxBatchSize) break;
    total += item.size;
    totals.push(total);
  }
  if (totals.length === 0) return { kind: 'dispatch', count: 1, size: head.size }; // an oversized head goes alone
  const canGrow = totals.length === queue.length && total < config.maxBatchSize;
  const target =
    config.preferredBatchSizes.length > 0 ? Math.max(...config.preferredBatchSizes) : config.maxBatchSize;
  const timedOut = now - head.arrivedAt >= config.maxQueueDelayMs;
  if (canGrow && total < target && !timedOut)
    return { kind: 'wait', untilMs: head.arrivedAt + config.maxQueueDelayMs };
  // Dispatch: prefer the longest prefix whose total is a preferred size, else everything that fits.
  for (let i = totals.length - 1; i >= 0; i--) {
    if (config.preferredBatchSizes.includes(totals[i]!))
      return { kind: 'dispatch', count: i + 1, size: totals[i]! };
  }
  return { kind: 'dispatch', count: totals.length, size: total };
}
