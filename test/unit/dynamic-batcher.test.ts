import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError, type Tensor } from '../../src/core/index.js';
import type { ExecuteResult } from '../../src/server/backends/index.js';
import { type BatchExecutor, DynamicBatcher, type Timers } from '../../src/server/batching/index.js';

/** A simulated clock and timers: time moves only when the test says so. */
class FakeTime implements Timers {
  nowMs = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  readonly clock = { now: () => this.nowMs };
  after(ms: number, fn: () => void): () => void {
    const t = { at: this.nowMs + ms, fn, live: true };
    this.timers.push(t);
    return () => {
      t.live = false;
    };
  }
  advance(ms: number): void {
    this.nowMs += ms;
    for (const t of this.timers.filter((x) => x.live && x.at <= this.nowMs)) {
      t.live = false;
      t.fn();
    }
  }
}

/** An executor with a fixed number of instances that answers when told, doubling every input. */
class FakeExecutor implements BatchExecutor {
  readonly inputs = [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 2] }];
  readonly outputs = [{ name: 'y', datatype: 'FP32' as const, shape: [-1, 2] }];
  readonly batches: number[] = [];
  private running: (() => void)[] = [];
  private listener: (() => void) | undefined;
  constructor(private instances: number) {}
  available(): number {
    return this.instances - this.running.length;
  }
  onAvailable(listener: () => void): void {
    this.listener = listener;
  }
  execute(inputs: readonly Tensor[]): Promise<ExecuteResult> {
    const x = inputs[0]!;
    this.batches.push(x.shape[0]!);
    return new Promise((resolve) => {
      const done = (): void => {
        this.running.splice(this.running.indexOf(done), 1);
        resolve({
          outputs: [
            { name: 'y', datatype: 'FP32', shape: x.shape, data: (x.data as Float32Array).map((v) => v * 2) },
          ],
          timing: { queueMs: 0, computeMs: 5 },
        });
        queueMicrotask(() => this.listener?.());
      };
      this.running.push(done);
    });
  }
  finishAll(): void {
    for (const f of [...this.running]) f();
  }
  async unload(): Promise<void> {}
}

const x = (...rows: number[]): Tensor[] => [
  {
    name: 'x',
    datatype: 'FP32',
    shape: [rows.length, 2],
    data: new Float32Array(rows.flatMap((r) => [r, r])),
  },
];
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(instances: number, options: Partial<ConstructorParameters<typeof DynamicBatcher>[1]> = {}) {
  const time = new FakeTime();
  const executor = new FakeExecutor(instances);
  const batcher = new DynamicBatcher(
    executor,
    {
      maxBatchSize: 8,
      preferredBatchSizes: [],
      maxQueueDelayMs: 0,
      maxQueueSize: 0,
      queueTimeoutMs: 0,
      label: 'm:1',
      ...options,
    },
    { clock: time.clock, timers: time },
  );
  return { time, executor, batcher };
}

describe('DynamicBatcher', () => {
  it('batches requests that queue while the instance is busy, in order, and splits the answers', async () => {
    const { executor, batcher } = setup(1);
    const first = batcher.execute(x(1), ['y']);
    const rest = [
      batcher.execute(x(2), ['y']),
      batcher.execute(x(3, 4), ['y']),
      batcher.execute(x(5), ['y']),
    ];
    assert.deepEqual(executor.batches, [1]);
    executor.finishAll();
    await first;
    await tick();
    assert.deepEqual(executor.batches, [1, 4]);
    executor.finishAll();
    const answers = await Promise.all(rest);
    assert.deepEqual(
      answers.map((a) => Array.from(a.outputs[0]!.data as Float32Array)),
      [
        [4, 4],
        [6, 6, 8, 8],
        [10, 10],
      ],
    );
    assert.deepEqual(
      answers.map((a) => a.execution),
      [
        { requests: 3, leader: true },
        { requests: 3, leader: false },
        { requests: 3, leader: false },
      ],
    );
  });

  it('waits up to max_queue_delay for a fuller batch', async () => {
    const { time, executor, batcher } = setup(1, { maxQueueDelayMs: 10 });
    const a = batcher.execute(x(1), ['y']);
    time.advance(4);
    const b = batcher.execute(x(2), ['y']);
    assert.deepEqual(executor.batches, []);
    time.advance(6);
    assert.deepEqual(executor.batches, [2]);
    executor.finishAll();
    assert.equal((await a).timing.queueMs, 10);
    assert.equal((await b).timing.queueMs, 6);
  });

  it('refuses requests past max_queue_size and requests that wait past the queue timeout', async () => {
    const { time, executor, batcher } = setup(1, { maxQueueSize: 2, queueTimeoutMs: 50, maxBatchSize: 1 });
    const running = batcher.execute(x(1), ['y']);
    const waiting = [batcher.execute(x(2), ['y']), batcher.execute(x(3), ['y'])];
    await assert.rejects(
      batcher.execute(x(4), ['y']),
      (e: unknown) => e instanceof FlotillaError && e.code === 'FLT_QUEUE_FULL',
    );
    time.advance(50);
    for (const w of waiting)
      await assert.rejects(
        w,
        (e: unknown) => e instanceof FlotillaError && e.code === 'FLT_QUEUE_TIMEOUT' && e.httpStatus === 503,
      );
    executor.finishAll();
    await running;
  });

  it('uses every free instance before batching', () => {
    const { executor, batcher } = setup(2);
    void batcher.execute(x(1), ['y']);
    void batcher.execute(x(2), ['y']);
    void batcher.execute(x(3), ['y']);
    assert.deepEqual(executor.batches, [1, 1]);
    assert.equal(batcher.queued, 1);
  });
});
