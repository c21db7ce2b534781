import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tensor } from '../../src/core/index.js';
import {
  type BatchDecision,
  batchKey,
  concatInputs,
  decideBatch,
  type QueuedItem,
  splitOutputs,
} from '../../src/server/batching/index.js';

const q = (...items: [size: number, arrivedAt: number, key?: string][]): QueuedItem[] =>
  items.map(([size, arrivedAt, key = 'k']) => ({ size, arrivedAt, key }));

const cfg = (maxBatchSize: number, maxQueueDelayMs = 0, preferredBatchSizes: number[] = []) => ({
  maxBatchSize,
  maxQueueDelayMs,
  preferredBatchSizes,
});

const cases: {
  name: string;
  queue: QueuedItem[];
  now: number;
  config: ReturnType<typeof cfg>;
  want: BatchDecision;
}[] = [
  { name: 'empty queue is idle', queue: [], now: 0, config: cfg(8), want: { kind: 'idle' } },
  {
    name: 'no delay: dispatch whatever is queued',
    queue: q([1, 0], [1, 0], [1, 0]),
    now: 0,
    config: cfg(8),
    want: { kind: 'dispatch', count: 3, size: 3 },
  },
  {
    name: 'stops at max batch size',
    queue: q([3, 0], [3, 0], [3, 0]),
    now: 0,
    config: cfg(8),
    want: { kind: 'dispatch', count: 2, size: 6 },
  },
  {
    name: 'a full batch goes at once despite the delay',
    queue: q([4, 0], [4, 1]),
    now: 1,
    config: cfg(8, 10),
    want: { kind: 'dispatch', count: 2, size: 8 },
  },
  {
    name: 'waits for more until the oldest has waited the delay',
    queue: q([1, 0], [1, 2]),
    now: 3,
    config: cfg(8, 10),
    want: { kind: 'wait', untilMs: 10 },
  },
  {
    name: 'dispatches a partial batch once the delay is up',
    queue: q([1, 0], [1, 2]),
    now: 10,
    config: cfg(8, 10),
    want: { kind: 'dispatch', count: 2, size: 2 },
  },
  {
    name: 'does not wait when the next request has other dimensions',
    queue: q([1, 0], [1, 0, 'other']),
    now: 0,
    config: cfg(8, 10),
    want: { kind: 'dispatch', count: 1, size: 1 },
  },
  {
    name: 'does not wait when the next request would overflow',
    queue: q([5, 0], [5, 0]),
    now: 0,
    config: cfg(8, 10),
    want: { kind: 'dispatch', count: 1, size: 5 },
  },
  {
    name: 'a preferred size reached goes at once',
    queue: q([2, 0], [2, 0]),
    now: 0,
    config: cfg(8, 10, [4]),
    want: { kind: 'dispatch', count: 2, size: 4 },
  },
  {
    name: 'below the largest preferred size it waits',
    queue: q([2, 0], [2, 0]),
    now: 0,
    config: cfg(8, 10, [4, 6]),
    want: { kind: 'wait', untilMs: 10 },
  },
  {
    name: 'on timeout it sends the longest preferred prefix',
    queue: q([2, 0], [2, 1], [1, 2]),
    now: 10,
    config: cfg(8, 10, [4, 6]),
    want: { kind: 'dispatch', count: 2, size: 4 },
  },
  {
    name: 'on timeout without a preferred prefix it sends all that fits',
    queue: q([1, 0], [2, 1]),
    now: 10,
    config: cfg(8, 10, [4]),
    want: { kind: 'dispatch', count: 2, size: 3 },
  },
  {
    name: 'an oversized head goes alone rather than blocking the queue',
    queue: q([9, 0], [1, 0]),
    now: 0,
    config: cfg(8),
    want: { kind: 'dispatch', count: 1, size: 9 },
  },
];

describe('decideBatch', () => {
  for (const c of cases) it(c.name, () => assert.deepEqual(decideBatch(c.queue, c.now, c.config), c.want));
});

describe('batch tensors', () => {
  const req = (rows: number[], words: string[]): Tensor[] => [
    {
      name: 'x',
      datatype: 'FP32',
      shape: [rows.length, 2],
      data: new Float32Array(rows.flatMap((r) => [r, -r])),
    },
    { name: 's', datatype: 'BYTES', shape: [words.length], data: words.map((w) => Buffer.from(w)) },
  ];

  it('keys requests by datatype and trailing dimensions', () => {
    assert.equal(batchKey(req([1], ['a'])), batchKey(req([2, 3], ['b', 'c'])));
    assert.notEqual(
      batchKey(req([1], ['a'])),
      batchKey([{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }]),
    );
  });

  it('joins along dimension 0 in order and splits the outputs back', () => {
    const joined = concatInputs([req([1], ['a']), req([2, 3], ['b', 'c'])]);
    assert.deepEqual(joined[0]!.shape, [3, 2]);
    assert.deepEqual(Array.from(joined[0]!.data as Float32Array), [1, -1, 2, -2, 3, -3]);
    assert.deepEqual(
      (joined[1]!.data as Uint8Array[]).map((b) => Buffer.from(b).toString()),
      ['a', 'b', 'c'],
    );
    const [first, second] = splitOutputs(joined, [1, 2]);
    assert.deepEqual(Array.from(first![0]!.data as Float32Array), [1, -1]);
    assert.deepEqual(second![0]!.shape, [2, 2]);
    assert.deepEqual(Array.from(second![0]!.data as Float32Array), [2, -2, 3, -3]);
    assert.deepEqual(
      (second![1]!.data as Uint8Array[]).map((b) => Buffer.from(b).toString()),
      ['b', 'c'],
    );
  });

  it('refuses to split outputs that are not batched along dimension 0', () => {
    const out: Tensor[] = [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array(1) }];
    assert.throws(() => splitOutputs(out, [1, 2]), /does not batch along dimension 0/);
  });
});
