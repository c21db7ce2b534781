/**
 * `Fleet` on fake time, with a fake orchestrator and a fake gateway: the hard cases of
 * `flotilla up`'s control plane (wake from zero, promote to a canary at zero, pin and unpin,
 * rollback while scaling, replicas that cannot start, stop) without a process, a socket or a sleep.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FlotillaError, silentLogger } from '../../src/core/index.js';
import { Fleet, type FleetOptions, type ScaleAnswer } from '../../src/fleet/index.js';
import type { Release } from '../../src/gateway/index.js';
import { parseServiceFileYaml } from '../../src/spec/index.js';
import { FakeGateway, FakeOrchestrator, FakeTime } from '../helpers/fleet-fakes.js';

const OPTIONS: FleetOptions = {
  baseDir: '/srv',
  activator: { maxQueue: 10, timeoutMs: 60_000, retryAfterS: 1 },
  switchTimeoutMs: 10_000,
  tickMs: 1000,
  machine: { cores: 2, memoryBytes: 8 * 1024 ** 3 },
};

function setUp(yaml: string, options: Partial<FleetOptions> = {}) {
  const file = parseServiceFileYaml(yaml, 'test.yaml');
  const time = new FakeTime();
  const orchestrator = new FakeOrchestrator(time);
  const gateway = new FakeGateway(file, time);
  const fleet = new Fleet(
    file,
    { ...OPTIONS, ...options },
    {
      gateway,
      orchestrator,
      clock: time,
      wallClock: { now: () => 1_700_000_000_000 + time.now() },
      logger: silentLogger,
      timers: time,
    },
  );
  fleet.start();
  const variant = (service: string, tag: string) => {
    const v = fleet
      .status()
      .services.find((s) => s.name === service)
      ?.variants.find((x) => x.tag === tag);
    if (!v?.scale) throw new Error(`no managed variant ${service}/${tag}`);
    return v;
  };
  const events = (): string[] => fleet.status().events.map((e) => e.message);
  return { fleet, time, orchestrator, gateway, variant, events };
}

/** Lets promise callbacks run (no time passes). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

const ONE_AT_ZERO = `services:
  echo:
    variants:
      - tag: main
        command: "replica"
        scale: { min: 0, max: 3, initial: 0, targetConcurrency: 1, stableWindow: 6s, scaleToZeroAfter: 2s }
`;

const CANARY = `services:
  web:
    slo: { latencyMs: 50, errorRate: 0.01 }
    variants:
      - tag: stable
        weight: 90
        command: "replica stable"
        scale: { min: 1, max: 2, targetConcurrency: 1, stableWindow: 6s }
      - tag: canary
        weight: 10
        command: "replica canary"
        scale: { min: 0, max: 2, initial: 0, targetConcurrency: 1, stableWindow: 6s, scaleToZeroAfter: 2s }
`;

describe('Fleet on fake time', () => {
  it('wake from zero: a waiting request starts one replica at once and is let through when it is ready', async () => {
    const { fleet, time, orchestrator, gateway, variant, events } = setUp(ONE_AT_ZERO);
    assert.equal(orchestrator.desired.get('echo/main'), 0);
    const admitted = gateway.load('echo', 'main').activator!.admit('echo/main');
    assert.ok(admitted instanceof Promise, 'held: no replica');
    // Woken without waiting for a tick.
    assert.equal(orchestrator.desired.get('echo/main'), 1);
    assert.match(events().at(-1)!, /scale from zero: a request is waiting -> 1/);
    time.advance(700);
    orchestrator.ready('echo/main');
    const release: Release = await admitted;
    release();
    assert.equal(variant('echo', 'main').scale!.ready, 1);
    assert.match(events().at(-1)!, /scaled from zero: echo\/main#1 ready 700 ms after the first request/);
    assert.equal(gateway.load('echo', 'main').replicas.length, 1);
    // A second request with a replica ready does not wake anything.
    orchestrator.calls.length = 0;
    const again = gateway.load('echo', 'main').activator!.admit('echo/main');
    assert.equal(typeof again, 'function');
    assert.deepEqual(orchestrator.calls, []);
    fleet.stop();
  });

  it('goes back to zero after the idle grace once traffic stops, on ticks of fake time', () => {
    const { fleet, time, orchestrator, gateway } = setUp(ONE_AT_ZERO);
    gateway.load('echo', 'main').setInflight(2);
    void gateway
      .load('echo', 'main')
      .activator!.acquire('echo/main')
      .catch(() => undefined);
    time.advance(500);
    orchestrator.ready('echo/main');
    time.advance(6_000);
    assert.ok(orchestrator.desired.get('echo/main')! >= 1);
    gateway.load('echo', 'main').setInflight(0);
    time.advance(20_000);
    assert.equal(orchestrator.desired.get('echo/main'), 0);
    fleet.stop();
  });

  it('promote to a canary at zero: the canary starts, is ready before it takes the traffic, stable drains to 0', async () => {
    const { fleet, time, orchestrator, gateway, variant, events } = setUp(CANARY);
    orchestrator.ready('web/stable');
    assert.equal(orchestrator.desired.get('web/canary'), 0);
    const promoted = fleet.rollout('web', 'promote');
    await settle();
    assert.equal(orchestrator.desired.get('web/canary'), 1, 'canary woken for the switch');
    assert.equal(gateway.load('web', 'canary').weight, 10, 'no traffic moves before it is ready');
    time.advance(1_500);
    orchestrator.ready('web/canary');
    const status = await promoted;
    assert.equal(status.rollout?.phase, 'promoted');
    assert.equal(gateway.load('web', 'canary').weight, 100);
    assert.equal(gateway.load('web', 'stable').weight, 0);
    assert.equal(orchestrator.desired.get('web/stable'), 0);
    assert.equal(variant('web', 'stable').scale!.pinned, true);
    const log = events();
    const ready = log.findIndex((m) => /web\/canary#\d+ ready|scaled from zero: web\/canary/.test(m));
    const switched = log.findIndex((m) => /^promoted: all traffic to canary/.test(m));
    const drained = log.findIndex((m) => /draining to 0/.test(m));
    assert.ok(ready >= 0 && switched > ready && drained > switched, JSON.stringify(log));
    fleet.stop();
  });

  it('promote gives up with FLT_NO_REPLICA after the switch timeout; the weights stay', async () => {
    const { fleet, time, orchestrator, gateway } = setUp(CANARY);
    orchestrator.ready('web/stable');
    const promoted = fleet.rollout('web', 'promote');
    await settle();
    time.advance(OPTIONS.switchTimeoutMs + 1);
    await assert.rejects(promoted, (e: FlotillaError) => e.code === 'FLT_NO_REPLICA');
    assert.equal(gateway.load('web', 'stable').weight, 90);
    fleet.stop();
  });

  it('pin and unpin: flotilla scale holds the count against the load; rollback unpins the stable variant', async () => {
    const { fleet, time, orchestrator, gateway, variant } = setUp(CANARY);
    orchestrator.ready('web/stable');
    orchestrator.ready('web/canary');
    const answer: ScaleAnswer = fleet.scale('web', 'stable', 2);
    assert.deepEqual(answer.scaled, { requested: 2, applied: 2 });
    assert.equal(orchestrator.desired.get('web/stable'), 2);
    // Load far above target: a pinned variant stays at 2.
    gateway.load('web', 'stable').setInflight(40);
    time.advance(10_000);
    assert.equal(orchestrator.desired.get('web/stable'), 2);
    assert.equal(variant('web', 'stable').scale!.pinned, true);
    // Pinned to 0 by a promote, then rolled back: unpinned, one replica at least, traffic back.
    gateway.load('web', 'stable').setInflight(0);
    await fleet.rollout('web', 'promote');
    assert.equal(orchestrator.desired.get('web/stable'), 0);
    const back = fleet.rollout('web', 'rollback');
    await settle();
    assert.equal(orchestrator.desired.get('web/stable'), 1);
    assert.equal(variant('web', 'stable').scale!.pinned, false);
    orchestrator.ready('web/stable');
    assert.equal((await back).rollout?.phase, 'rolled-back');
    assert.equal(gateway.load('web', 'stable').weight, 100);
    fleet.stop();
  });

  it('rollback while scaling: the stable variant keeps its scale-up; the switch does not wait for it', async () => {
    const { fleet, time, orchestrator, gateway, variant } = setUp(CANARY);
    orchestrator.ready('web/stable');
    orchestrator.ready('web/canary');
    gateway.load('web', 'stable').setInflight(6);
    time.advance(3_000);
    assert.equal(orchestrator.desired.get('web/stable'), 2, 'scaling up');
    assert.equal(variant('web', 'stable').scale!.ready, 1);
    const status = await fleet.rollout('web', 'rollback');
    assert.equal(status.rollout?.phase, 'rolled-back');
    assert.equal(gateway.load('web', 'canary').weight, 0);
    assert.equal(orchestrator.desired.get('web/stable'), 2, 'the scale-up stands');
    fleet.stop();
  });

  it('flotilla scale above max is refused with the reason and changes nothing; --force caps it and says so', () => {
    const { fleet, orchestrator, events } = setUp(CANARY);
    const before = orchestrator.calls.length;
    assert.throws(
      () => fleet.scale('web', 'stable', 100),
      (e: FlotillaError) =>
        e.code === 'FLT_SCALE_LIMIT' &&
        e.httpStatus === 409 &&
        /web\/stable: 100 replicas is above the limit: the variant's max is 2/.test(e.message) &&
        /this machine holds/.test(e.message) &&
        /Nothing was changed; the most allowed is 2/.test(e.message),
    );
    assert.equal(orchestrator.calls.length, before, 'nothing applied');
    const forced = fleet.scale('web', 'stable', 100, true);
    assert.equal(forced.scaled.requested, 100);
    assert.equal(forced.scaled.applied, 2);
    assert.match(forced.scaled.capped ?? '', /max is 2/);
    assert.equal(orchestrator.desired.get('web/stable'), 2);
    assert.match(events().at(-1)!, /pinned to 2 \(asked 100, capped by --force/);
  });

  it('a replica that cannot load its model fails waiting and new requests at once with the reason, reported once', async () => {
    const { fleet, orchestrator, gateway, variant, events } = setUp(ONE_AT_ZERO);
    const activator = gateway.load('echo', 'main').activator!;
    const waiting = activator.acquire('echo/main');
    const reason = 'model mnist version 7 is not in the repository /srv/models (versions there: 1, 2)';
    orchestrator.failed('echo/main', reason);
    await assert.rejects(
      waiting,
      (e: FlotillaError) =>
        e.code === 'FLT_REPLICA_FAILED' && e.httpStatus === 503 && e.message.includes(reason),
    );
    await assert.rejects(
      activator.acquire('echo/main'),
      (e: FlotillaError) => e.code === 'FLT_REPLICA_FAILED',
    );
    orchestrator.failed('echo/main', reason);
    assert.equal(events().filter((m) => m.includes(reason)).length, 1, 'reported once');
    assert.equal(variant('echo', 'main').scale!.failure, reason);
    // Fixed (a replica became ready): the failure clears and requests pass.
    orchestrator.ready('echo/main');
    assert.equal(variant('echo', 'main').scale!.failure, undefined);
    assert.equal(typeof activator.admit('echo/main'), 'function');
    fleet.stop();
  });

  it('stop: no tick, no wake; requests still waiting are refused with FLT_SHUTTING_DOWN', async () => {
    const { fleet, time, orchestrator, gateway } = setUp(ONE_AT_ZERO);
    const activator = gateway.load('echo', 'main').activator!;
    const waiting = activator.acquire('echo/main');
    fleet.stop();
    await assert.rejects(waiting, (e: FlotillaError) => e.code === 'FLT_SHUTTING_DOWN');
    assert.equal(time.pending, 0, 'every fleet timer cancelled');
    orchestrator.calls.length = 0;
    void activator.acquire('echo/main').catch(() => undefined);
    gateway.load('echo', 'main').setInflight(50);
    time.advance(60_000);
    assert.deepEqual(orchestrator.calls, [], 'nothing scaled after stop');
  });

  it('status says why a progressive rollout holds: the step, the requests it waits for and has', () => {
    const { fleet, time, orchestrator, gateway } = setUp(
      `${CANARY}    rollout: { steps: [10, 25, 50, 100], interval: 30s, minRequests: 20 }\n`,
    );
    orchestrator.ready('web/stable');
    orchestrator.ready('web/canary');
    gateway.load('web', 'canary').finish(3);
    time.advance(31_000);
    const rollout = fleet.status().services[0]!.rollout!;
    assert.equal(rollout.phase, 'progressing');
    assert.equal(rollout.holding, 'step 1/4 (10%) waits for 20 canary requests, has 3');
    gateway.load('web', 'canary').finish(30);
    // One tick advances, the next holds at the new step.
    time.advance(2_000);
    const next = fleet.status().services[0]!.rollout!;
    assert.equal(next.canaryWeight, 25);
    assert.match(next.holding ?? '', /^step 2\/4 \(25%\) runs/);
    fleet.stop();
  });
});
