import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError } from '../../src/core/index.js';
import { ActivationError, Activator, type ActivatorTimers } from '../../src/gateway/index.js';

/** Timers on a simulated clock: they fire only when the test advances time. */
class FakeTimers implements ActivatorTimers {
  now = 0;
  private readonly pending: { at: number; fn: () => void; live: boolean }[] = [];
  after(ms: number, fn: () => void): () => void {
    const t = { at: this.now + ms, fn, live: true };
    this.pending.push(t);
    return () => {
      t.live = false;
    };
  }
  advance(ms: number): void {
    this.now += ms;
    for (const t of this.pending.filter((p) => p.live && p.at <= this.now)) {
      t.live = false;
      t.fn();
    }
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(over: Partial<ConstructorParameters<typeof Activator>[0]> = {}) {
  const timers = new FakeTimers();
  const activator = new Activator(
    { containerConcurrency: 0, maxQueue: 10, timeoutMs: 5_000, retryAfterS: 1, ...over },
    { timers },
  );
  return { timers, activator };
}

describe('Activator', () => {
  it('holds requests while no replica is ready and serves them all once one is, none lost', async () => {
    const { activator } = setup({ containerConcurrency: 2 });
    const released: number[] = [];
    const waits = [0, 1, 2].map((i) =>
      activator.acquire('mnist/stable').then((done) => {
        released.push(i);
        return done;
      }),
    );
    await tick();
    assert.deepEqual(released, []);
    assert.equal(activator.queued, 3);
    activator.setReadyReplicas(1);
    await tick();
    // The first replica gets at most its container concurrency; the third request keeps waiting.
    assert.deepEqual(released, [0, 1]);
    assert.equal(activator.queued, 1);
    const [first] = await Promise.all(waits.slice(0, 2));
    first!();
    await tick();
    assert.deepEqual(released, [0, 1, 2]);
    assert.equal(activator.active, 2);
  });

  it('passes requests straight through while there is capacity', async () => {
    const { activator } = setup();
    activator.setReadyReplicas(2);
    const dones = await Promise.all([1, 2, 3, 4].map(() => activator.acquire('v')));
    assert.equal(activator.active, 4);
    for (const d of dones) d();
    assert.equal(activator.active, 0);
  });

  it('refuses with 503 and Retry-After when the queue is full', async () => {
    const { activator } = setup({ maxQueue: 1 });
    void activator.acquire('v');
    await assert.rejects(activator.acquire('mnist/canary'), (e: unknown) => {
      return (
        e instanceof ActivationError &&
        e.code === 'FLT_ACTIVATION_QUEUE_FULL' &&
        e.httpStatus === 503 &&
        e.retryAfterS === 1 &&
        /mnist\/canary: 1 requests/.test(e.message)
      );
    });
  });

  it('times a waiting request out with 503 instead of letting it hang', async () => {
    const { timers, activator } = setup({ timeoutMs: 3_000 });
    const wait = activator.acquire('mnist/stable');
    timers.advance(2_999);
    await tick();
    assert.equal(activator.queued, 1);
    timers.advance(1);
    await assert.rejects(
      wait,
      (e: unknown) =>
        e instanceof FlotillaError && e.code === 'FLT_ACTIVATION_TIMEOUT' && /within 3000 ms/.test(e.message),
    );
    assert.equal(activator.queued, 0);
    // A replica that comes up later serves new requests normally.
    activator.setReadyReplicas(1);
    (await activator.acquire('v'))();
  });

  it('with containerConcurrency 0 (unlimited) releases everything queued once one replica is ready', async () => {
    // Regression: the activator held a load step to targetConcurrency per ready replica while
    // more were starting (424 answers/s, then 5,504/s once up); Knative throttles only by the
    // hard containerConcurrency limit, unlimited by default.
    const { activator } = setup({ maxQueue: 100 });
    const waits = Array.from({ length: 32 }, () => activator.acquire('v'));
    await tick();
    assert.equal(activator.active, 0);
    activator.setReadyReplicas(1);
    await Promise.all(waits);
    assert.equal(activator.queued, 0);
    assert.equal(activator.active, 32);
    // And admits synchronously, without a promise, while there is capacity.
    assert.equal(typeof activator.admit('v'), 'function');
    assert.equal(activator.capacity, Number.POSITIVE_INFINITY);
  });

  it('holds to containerConcurrency per ready replica at all times, and grows with the replicas', async () => {
    const { activator } = setup({ containerConcurrency: 1 });
    const waits = [1, 2, 3, 4].map(() => activator.acquire('v'));
    activator.setReadyReplicas(1);
    await tick();
    assert.equal(activator.active, 1);
    assert.equal(activator.queued, 3);
    activator.setReadyReplicas(3);
    await tick();
    assert.deepEqual([activator.active, activator.queued, activator.capacity], [3, 1, 3]);
    const dones = await Promise.all(waits.slice(0, 3));
    dones[0]!();
    await Promise.all(waits);
    assert.deepEqual([activator.active, activator.queued], [3, 0]);
  });

  it('asks for a replica when a request waits with none ready, not when capacity is only short', async () => {
    const { activator } = setup({ containerConcurrency: 1 });
    let demands = 0;
    activator.onDemand = () => {
      demands++;
    };
    void activator.acquire('v');
    assert.equal(demands, 1);
    activator.setReadyReplicas(1);
    void activator.acquire('v');
    void activator.acquire('v');
    assert.equal(activator.queued, 2);
    assert.equal(demands, 1);
  });

  it('refuses every waiting request when told to, leaving none queued', async () => {
    const { activator } = setup();
    const waits = [1, 2].map(() => activator.acquire('v'));
    activator.rejectAll(new Error('variant removed'));
    for (const w of waits) await assert.rejects(w, /variant removed/);
    assert.equal(activator.queued, 0);
  });
});
