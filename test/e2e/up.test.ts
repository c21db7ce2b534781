/**
 * End-to-end tests of `flotilla up`: the real CLI, replicas as real child processes, HTTP only.
 * Scale from zero (model variant), the activator's bounds, a step to 32 concurrent clients, a
 * killed replica, `flotilla scale`/`status`, a PaddleService file, and no process left behind.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusReport } from '../../src/fleet/status.js';
import {
  alive,
  assertAllGone,
  jsonOf,
  Load,
  type Outcome,
  replicaCommand,
  runCli,
  send,
  startUp,
  tail,
  tally,
  tempDir,
  type UpProcess,
  writeFile,
} from '../fixtures/up/up-helpers.js';
import { waitFor } from '../helpers/flotilla-process.js';
import { argmaxRows, type Digit, heldOutDigits } from '../helpers/mnist.js';
import { EXAMPLE_MODELS, ROOT } from '../helpers/paths.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** An OIP JSON request for one digit. */
const digitBody = (d: Digit): string =>
  JSON.stringify({
    inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: Array.from(d.pixels) }],
  });

describe('flotilla up: a model variant scales from zero and back', () => {
  const tmp = tempDir('up-mnist');
  let up: UpProcess;
  let firstPids: number[] = [];

  before(async () => {
    const file = writeFile(
      tmp.dir,
      'mnist.yaml',
      `services:
  mnist:
    variants:
      - tag: v2
        model: { repository: ${JSON.stringify(EXAMPLE_MODELS)}, name: mnist, version: 2 }
        scale: { min: 0, max: 2, initial: 0, targetConcurrency: 2, stableWindow: 6s, scaleToZeroAfter: 2s }
`,
    );
    up = await startUp(file);
  });
  after(async () => {
    await up?.cleanup();
    tmp.cleanup();
  });

  it('writes the context file and a banner naming the gateway', async () => {
    // One context per running up, named after its service file (mnist.yaml).
    const ctx = JSON.parse(readFileSync(join(up.home, 'up', 'mnist.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(ctx['url'], up.url);
    assert.equal(ctx['pid'], up.proc.pid);
    assert.equal(ctx['token'], 'e2e-up-token');
    // The banner follows the listening line on stdout.
    await waitFor(() => up.stdout().includes(up.url), 5_000, 'the banner');
    assert.match(up.stdout(), new RegExp(`gateway\\s+${up.url.replace(/\./g, '\\.')}`));
    assert.match(up.stdout(), /mnist: v2 100% \(mnist v2, 0-2 replicas\)/);
    assert.match(up.stdout(), /^ {2}context {2}mnist\b/m);
    assert.match(up.stdout(), /^ {2}(npx )?flotilla status --context mnist\b/m);
  });

  it('starts with zero replicas and stays at zero without traffic (initial: 0)', async () => {
    // Several decision ticks (every 200 ms with a 6 s stable window) and no request: nothing runs.
    const seen: string[] = [];
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const v = await up.variant('mnist', 'v2');
      seen.push(`desired=${v.scale!.desired} replicas=${v.replicas.length}`);
      await sleep(100);
    }
    const started = seen.filter((s) => s !== 'desired=0 replicas=0');
    assert.deepEqual(
      started,
      [],
      `a variant with initial: 0 and no traffic started a replica:\n${tail(up.logs(), 10)}`,
    );
  });

  it('answers 5 concurrent requests sent at zero, all correct, and logs the cold start', async (t) => {
    // Whatever happened before, begin from zero.
    await waitFor(
      async () => {
        const v = await up.variant('mnist', 'v2');
        return v.scale!.desired === 0 && v.replicas.length === 0;
      },
      15_000,
      'mnist/v2 at zero replicas',
    );
    const logBefore = up.logs().length;
    const all = heldOutDigits();
    const digits = [0, 1, 2, 3, 4].map((label) => all.find((d) => d.label === label)!);
    const t0 = performance.now();
    const answers = await Promise.all(
      digits.map((d) => send(up.url, { path: '/v2/models/mnist/infer', body: digitBody(d) })),
    );
    const wallMs = Math.round(performance.now() - t0);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200],
      JSON.stringify(tally(answers)),
    );
    for (const [i, a] of answers.entries()) {
      const res = JSON.parse(a.body) as {
        model_name: string;
        model_version: string;
        outputs: { name: string; shape: number[]; data: number[] }[];
      };
      assert.equal(res.model_name, 'mnist');
      assert.equal(res.model_version, '2');
      assert.equal(a.variant, 'v2');
      const probs = res.outputs[0]!;
      assert.equal(probs.name, 'probs');
      assert.deepEqual(probs.shape, [1, 10]);
      assert.equal(argmaxRows(Float32Array.from(probs.data), 1)[0], digits[i]!.label, `digit ${i}`);
    }
    const log = up.logs().slice(logBefore);
    const m = /scaled from zero: \S+ ready (\d+) ms after the first request/.exec(log);
    assert.ok(m, `no "scaled from zero" line:\n${log}`);
    const cold = /coldStartMs=(\d+)[^\n]*scaled from zero/.exec(log);
    assert.ok(cold, `the scaled-from-zero line has no coldStartMs number:\n${log}`);
    assert.equal(cold[1], m[1]);
    t.diagnostic(
      `cold start: ${cold[1]} ms from the first request to a ready replica; 5 answers in ${wallMs} ms`,
    );

    const v = await up.variant('mnist', 'v2');
    const ready = v.replicas.filter((r) => r.state === 'ready');
    assert.ok(ready.length >= 1, JSON.stringify(v));
    assert.ok(v.scale!.ready >= 1);
    for (const r of ready) {
      assert.ok(typeof r.pid === 'number' && alive(r.pid), `replica ${r.id} has a live pid`);
      assert.ok(typeof r.startMs === 'number');
    }
    assert.equal(v.requests >= 5, true);
    assert.equal(v.errors, 0);
    firstPids = v.replicas.flatMap((r) => (r.pid !== undefined ? [r.pid] : []));
  });

  it('goes back to zero replicas after the stable window without traffic; the process is gone', async (t) => {
    assert.ok(firstPids.length > 0, 'the previous test saw a replica');
    const t0 = performance.now();
    await waitFor(
      async () => {
        const v = await up.variant('mnist', 'v2');
        return v.scale!.desired === 0 && v.replicas.length === 0;
      },
      25_000,
      'mnist/v2 back at zero replicas',
    );
    const ms = Math.round(performance.now() - t0);
    await waitFor(() => firstPids.every((p) => !alive(p)), 5_000, `replica pids ${firstPids} to exit`);
    t.diagnostic(`back at zero ${ms} ms after the last request (stable window 6 s, grace 2 s)`);
    assert.match(up.logs(), /scale decision service=mnist variant=v2 [^\n]*-> 0"/);
  });

  it('flotilla scale pins the variant at 2 replicas; flotilla status --json shows them', async () => {
    const res = await runCli(up.home, ['scale', 'mnist', 'v2', '2']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /mnist\/v2: scaling to 2 replicas \(min = max = 2\)/);
    let report: StatusReport | undefined;
    await waitFor(
      async () => {
        const st = await runCli(up.home, ['status', '--json']);
        if (st.code !== 0) throw new Error(st.stderr);
        report = JSON.parse(st.stdout) as StatusReport;
        const v = report.services[0]!.variants[0]!;
        return v.scale!.ready === 2;
      },
      30_000,
      'two ready replicas in flotilla status --json',
    );
    const v = report!.services[0]!.variants[0]!;
    assert.equal(v.scale!.desired, 2);
    assert.equal(v.scale!.pinned, true);
    assert.equal(v.scale!.min, 2);
    assert.equal(v.scale!.max, 2);
    const ready = v.replicas.filter((r) => r.state === 'ready');
    assert.equal(ready.length, 2);
    assert.notEqual(ready[0]!.pid, ready[1]!.pid);
    for (const r of ready) up.pids.add(r.pid!);
    // The table form names the variant and its replicas too.
    const table = await runCli(up.home, ['status']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /mnist/);
    assert.match(table.stdout, /v2/);
    // Pinned: no traffic does not take it to zero.
    await sleep(2500);
    assert.equal((await up.variant('mnist', 'v2')).scale!.ready, 2);
  });

  it('flotilla scale refuses an unknown variant (exit 1, naming it) and a bad count', async () => {
    const bad = await runCli(up.home, ['scale', 'mnist', 'nope', '2']);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /nope/);
    assert.match(bad.stderr, /variants: v2/);
    const badService = await runCli(up.home, ['scale', 'nosuch', 'v2', '2']);
    assert.equal(badService.code, 1);
    assert.match(badService.stderr, /nosuch/);
    const badCount = await runCli(up.home, ['scale', 'mnist', 'v2', '-1']);
    assert.equal(badCount.code, 1);
    assert.match(badCount.stderr, /replicas/);
    // Nothing changed.
    assert.equal((await up.variant('mnist', 'v2')).scale!.desired, 2);
  });

  it('SIGTERM: exit 0, no replica process left, the context file removed', async (t) => {
    await up.status();
    const pids = [...up.pids];
    assert.ok(pids.length >= 3, `saw replica pids ${pids}`);
    // Everything below `up` now, the standby model server included.
    const below = up.descendants();
    assert.ok(below.length >= 2, `processes below flotilla up: ${below}`);
    const { code, ms } = await up.stop('SIGTERM', 20_000);
    t.diagnostic(
      `flotilla up stopped in ${ms} ms; replica pids seen: ${pids.join(', ')}; running below it at stop: ${below.join(', ')}`,
    );
    assertAllGone(below, 'processes below flotilla up');
    assert.equal(code, 0, tail(up.logs()));
    assert.ok(ms < 15_000, `took ${ms} ms`);
    assertAllGone(pids, 'after flotilla up exited');
    assert.deepEqual(readdirSync(join(up.home, 'up')), [], 'context file removed');
    assert.match(up.logs(), /info {2}stopped/);
  });
});

describe('flotilla up: the activator bounds waiting requests', () => {
  const tmp = tempDir('up-activator');
  const ups: UpProcess[] = [];
  after(async () => {
    for (const u of ups) await u.cleanup();
    tmp.cleanup();
  });

  it('queue of 3: of 6 concurrent requests at zero, 3 wait for the slow start, 3 get 503 at once', async (t) => {
    const file = writeFile(
      tmp.dir,
      'slow.yaml',
      `services:
  slow:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name slow --start-delay 1500'))}
        scale: { min: 0, max: 1, initial: 0, stableWindow: 6s, scaleToZeroAfter: 2s }
`,
    );
    const up = await startUp(file, ['--activator-queue', '3', '--activator-timeout', '5000']);
    ups.push(up);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => send(up.url, { path: '/v2/models/slow/infer' })),
    );
    t.diagnostic(`answers: ${answers.map((a) => `${a.status} in ${Math.round(a.ms)} ms`).join(', ')}`);
    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 503);
    assert.equal(served.length, 3, JSON.stringify(tally(answers)));
    assert.equal(refused.length, 3, JSON.stringify(tally(answers)));
    for (const a of served) {
      assert.match(a.body, /^slow \d+$/);
      assert.ok(a.ms >= 1200, `served after the 1.5 s start, not before (${a.ms} ms)`);
    }
    for (const a of refused) {
      assert.equal(jsonOf(a).code, 'FLT_ACTIVATION_QUEUE_FULL', a.body);
      assert.ok(a.headers['retry-after'] !== undefined, 'retry-after header');
      assert.ok(Number(a.headers['retry-after']) >= 1);
      assert.ok(a.ms < 1000, `refused at once, not after waiting (${a.ms} ms)`);
    }
  });

  it('containerConcurrency 1 holds a replica to one request at a time; the default (0) does not', async (t) => {
    // Knative's activator throttles by containerConcurrency, not by the autoscaling target
    // (issue 17): with 0 (unlimited), four requests to one replica are in flight together.
    const file = writeFile(
      tmp.dir,
      'cc.yaml',
      `services:
  one:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name one --delay 400'))}
        scale: { min: 1, max: 1, targetConcurrency: 1, containerConcurrency: 1 }
  free:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name free --delay 400'))}
        scale: { min: 1, max: 1, targetConcurrency: 1 }
`,
    );
    const up = await startUp(file);
    ups.push(up);
    await waitFor(
      async () => {
        const s = await up.status();
        return s.services.every((x) => x.variants[0]!.scale!.ready === 1);
      },
      20_000,
      'one ready replica each',
    );
    const four = async (model: string): Promise<number[]> => {
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => send(up.url, { path: `/v2/models/${model}/infer` })),
      );
      assert.deepEqual(tally(answers), { '200 main': 4 });
      for (const a of answers) assert.match(a.body, new RegExp(`^${model} \\d+$`));
      return answers.map((a) => Math.round(a.ms)).sort((a, b) => a - b);
    };
    const one = await four('one');
    const free = await four('free');
    t.diagnostic(`answer times ms: containerConcurrency 1 ${one.join(', ')}; 0 ${free.join(', ')}`);
    // One at a time: the fourth answer comes after four delays of 400 ms.
    assert.ok(one[3]! >= 1500, `containerConcurrency 1: last answer at ${one[3]} ms`);
    // Together: all four within two delays.
    assert.ok(free[3]! < 1200, `containerConcurrency 0: last answer at ${free[3]} ms`);
  });

  it('a replica that never listens: 503 FLT_ACTIVATION_TIMEOUT with Retry-After after the timeout', async (t) => {
    const file = writeFile(
      tmp.dir,
      'never.yaml',
      `services:
  never:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name never --never-listen'))}
        scale: { min: 0, max: 1, initial: 0, stableWindow: 6s, scaleToZeroAfter: 2s }
`,
    );
    const up = await startUp(file, ['--activator-timeout', '1500']);
    ups.push(up);
    const [a, b] = await Promise.all([
      send(up.url, { path: '/v2/models/never/infer' }),
      send(up.url, { path: '/v2/models/never/infer' }),
    ]);
    t.diagnostic(`timed out after ${Math.round(a!.ms)} ms and ${Math.round(b!.ms)} ms`);
    for (const o of [a!, b!]) {
      assert.equal(o.status, 503, o.body);
      assert.equal(jsonOf(o).code, 'FLT_ACTIVATION_TIMEOUT', o.body);
      assert.ok(o.headers['retry-after'] !== undefined, 'retry-after header');
      assert.ok(o.ms >= 1400 && o.ms < 4000, `answered after ${o.ms} ms (timeout 1500 ms)`);
    }
    // A replica was started for them (the request woke the variant) and it is still starting.
    const v = await up.variant('never', 'main');
    assert.equal(v.scale!.desired, 1);
    assert.ok(
      v.replicas.some((r) => r.state === 'starting'),
      JSON.stringify(v.replicas),
    );
    // And `up` still stops cleanly, taking the never-ready replica with it.
    const { code } = await up.stop();
    assert.equal(code, 0, tail(up.logs()));
    assertAllGone(up.pids, 'never-ready replica after stop');
  });
});

describe('flotilla up: command replicas under a step of load, a crash, and stop', () => {
  const tmp = tempDir('up-step');
  let up: UpProcess;

  before(async () => {
    const file = writeFile(
      tmp.dir,
      'web.yaml',
      `services:
  web:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name web --delay 50'))}
        scale: { min: 1, max: 4, targetConcurrency: 4, stableWindow: 6s }
  pair:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name pair --delay 20'))}
        scale: { min: 2, max: 2, stableWindow: 6s }
`,
    );
    up = await startUp(file);
    await waitFor(
      async () => {
        const s = await up.status();
        return s.services.every((x) => x.variants[0]!.scale!.ready === x.variants[0]!.scale!.min);
      },
      20_000,
      'web at 1 and pair at 2 ready replicas',
    );
  });
  after(async () => {
    await up?.cleanup();
    tmp.cleanup();
  });

  it('a step to 32 concurrent clients: 3+ replicas within the panic window, no failure, back to 1 after', async (t) => {
    const samples: { at: number; desired: number; ready: number; panic: boolean }[] = [];
    const load = new Load(up.url, '/v2/models/web/infer', 32, { maxRequests: 6000 });
    const t0 = performance.now();
    let desired3: number | undefined;
    let ready3: number | undefined;
    while (performance.now() - t0 < 4000) {
      const v = await up.variant('web', 'main');
      const at = Math.round(performance.now() - t0);
      samples.push({ at, desired: v.scale!.desired, ready: v.scale!.ready, panic: v.scale!.panic });
      if (desired3 === undefined && v.scale!.desired >= 3) desired3 = at;
      if (ready3 === undefined && v.scale!.ready >= 3) ready3 = at;
      await sleep(100);
    }
    const outcomes = await load.stop();
    const peak = samples.reduce((a, s) => Math.max(a, s.ready), 0);
    t.diagnostic(
      `step: desired >= 3 after ${desired3} ms, ready >= 3 after ${ready3} ms, peak ready ${peak}; ${outcomes.length} requests`,
    );
    t.diagnostic(
      `samples: ${samples.map((s) => `${s.at}:${s.desired}/${s.ready}${s.panic ? 'P' : ''}`).join(' ')}`,
    );
    assert.deepEqual(load.failures(), [], JSON.stringify(tally(outcomes)));
    assert.ok(outcomes.length >= 200, `only ${outcomes.length} requests in 4 s`);
    assert.ok(desired3 !== undefined && desired3 <= 2000, `desired >= 3 after ${desired3} ms`);
    assert.ok(ready3 !== undefined && ready3 <= 3500, `ready >= 3 after ${ready3} ms`);
    assert.ok(
      samples.some((s) => s.panic),
      'the scaler panicked',
    );
    assert.match(up.logs(), /scale decision service=web variant=main desired=[34] [^\n]*panic=true/);
    // Traffic spread over the new replicas.
    const replicas = new Set(outcomes.map((o) => o.replica));
    assert.ok(replicas.size >= 3, `answers came from ${replicas.size} replicas`);

    const t1 = performance.now();
    await waitFor(
      async () => {
        const v = await up.variant('web', 'main');
        return v.scale!.desired === 1 && v.replicas.length === 1 && v.scale!.ready === 1;
      },
      20_000,
      'web back at 1 replica',
    );
    t.diagnostic(`back at 1 replica ${Math.round(performance.now() - t1)} ms after the load stopped`);
  });

  it('a replica killed with SIGKILL is replaced; requests keep succeeding', async (t) => {
    const before = await up.variant('pair', 'main');
    const victim = before.replicas.find((r) => r.state === 'ready')!;
    assert.ok(victim.pid !== undefined);
    const load = new Load(up.url, '/v2/models/pair/infer', 4, { pauseMs: 5, maxRequests: 5000 });
    await sleep(300);
    const killedAt = load.outcomes.length;
    process.kill(victim.pid, 'SIGKILL');
    const t0 = performance.now();
    await waitFor(
      async () => {
        const v = await up.variant('pair', 'main');
        const ready = v.replicas.filter((r) => r.state === 'ready');
        return ready.length === 2 && !ready.some((r) => r.pid === victim.pid || r.id === victim.id);
      },
      15_000,
      'a replacement replica',
    );
    const replacedMs = Math.round(performance.now() - t0);
    await sleep(500);
    const outcomes = await load.stop();
    const after = await up.service('pair');
    const events = (await up.status()).events.filter((e) => e.service === 'pair');
    t.diagnostic(
      `replacement ready ${replacedMs} ms after SIGKILL; ${outcomes.length - killedAt} requests after the kill: ${JSON.stringify(tally(outcomes.slice(killedAt)))}`,
    );
    assert.ok(
      events.some((e) => e.message.includes(`${victim.id} crashed`)),
      JSON.stringify(events.map((e) => e.message)),
    );
    const pids = after.variants[0]!.replicas.map((r) => r.pid);
    assert.ok(!pids.includes(victim.pid), 'the victim pid is gone from the status');
    assert.equal(alive(victim.pid), false);
    assert.deepEqual(load.failures(), [], JSON.stringify(tally(load.failures())));
    assert.ok(outcomes.length - killedAt >= 20, 'requests ran across the kill');
  });

  it('a crash of the only replica under light load: the activator holds requests until the restart', async (t) => {
    const v = await up.variant('web', 'main');
    const victim = v.replicas.find((r) => r.state === 'ready')!;
    const load = new Load(up.url, '/v2/models/web/infer', 2, { pauseMs: 20, maxRequests: 2000 });
    await sleep(300);
    const killedAt = load.outcomes.length;
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor(
      async () => {
        const x = await up.variant('web', 'main');
        return x.scale!.ready >= 1 && !x.replicas.some((r) => r.id === victim.id);
      },
      15_000,
      'a replacement for the only replica',
    );
    await sleep(300);
    const outcomes = await load.stop();
    const failed = load.failures(killedAt);
    t.diagnostic(
      `single replica killed: ${outcomes.length - killedAt} requests after the kill, failures: ${JSON.stringify(tally(failed))} ${failed.map((f) => f.body || f.error).join(' | ')}`,
    );
    // docs/up.md: "A variant with no ready replica does not fail requests: the gateway's activator
    // holds them". Between the crash and the replacement (a few hundred ms) requests, and retries
    // of the ones cut off by the kill, should wait for the new replica rather than get 503.
    assert.deepEqual(
      failed.map((f) => `${f.status} ${f.body || f.error}`),
      [],
      'requests failed while the only replica was being replaced',
    );
  });

  it('SIGTERM: exit 0 within 15 s and no replica process left', async (t) => {
    await up.status();
    const pids = [...up.pids];
    assert.ok(pids.length >= 6, `saw ${pids.length} replica pids`);
    const below = up.descendants();
    // Three replicas (web 1, pair 2), each a shell and its node process.
    assert.ok(below.length >= 6, `processes below flotilla up: ${below}`);
    const { code, ms } = await up.stop('SIGTERM', 20_000);
    t.diagnostic(`stopped in ${ms} ms; ${pids.length} replica pids seen, ${below.length} processes below it`);
    assertAllGone(below, 'processes below flotilla up');
    assert.equal(code, 0, tail(up.logs()));
    assert.ok(ms < 15_000);
    assertAllGone(pids, 'after stop');
    assert.deepEqual(readdirSync(join(up.home, 'up')), []);
  });
});

describe('flotilla up: ElasticServing PaddleService', () => {
  const tmp = tempDir('up-paddle');
  const sample = join(ROOT, 'test/fixtures/services/paddleservice-sample.yaml');
  let up: UpProcess | undefined;
  after(async () => {
    await up?.cleanup();
    tmp.cleanup();
  });

  it('runs the sample: requests by Host reach both default and canary, about half each', async (t) => {
    up = await startUp('test/fixtures/services/paddleservice-sample.yaml');
    await waitFor(
      async () => (await up!.service('paddleservice-sample')).variants.every((v) => v.scale!.ready >= 1),
      20_000,
      'both variants ready',
    );
    const host = 'paddleservice-sample.paddleservice-system.example.com';
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 40; i++)
      outcomes.push(await send(up.url, { path: '/image/prediction', headers: { host } }));
    const counts = tally(outcomes);
    t.diagnostic(`40 requests: ${JSON.stringify(counts)}`);
    assert.ok(
      outcomes.every((o) => o.status === 200),
      JSON.stringify(counts),
    );
    for (const o of outcomes) {
      assert.equal(o.headers['x-flotilla-service'], 'paddleservice-sample');
      assert.match(o.body, /^ok \d+$/);
    }
    const d = counts['200 default'] ?? 0;
    const c = counts['200 canary'] ?? 0;
    assert.equal(d + c, 40);
    assert.ok(d >= 8 && c >= 8, `default ${d}, canary ${c}: not near 50/50`);
    // A Host that names nothing is refused.
    const other = await send(up.url, { path: '/image/prediction', headers: { host: 'nothing.example.com' } });
    assert.equal(other.status, 404);
    const { code } = await up.stop();
    assert.equal(code, 0);
    assertAllGone(up.pids, 'paddle replicas after stop');
  });

  it('refuses the sample without command: (container images cannot run here), exit 1', async () => {
    const text = readFileSync(sample, 'utf8')
      .split('\n')
      .filter((l) => !/^\s*command:/.test(l))
      .join('\n');
    const file = writeFile(tmp.dir, 'no-command.yaml', text);
    const res = await runCli(tmp.dir, ['up', file, '--port', '0']);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /containerImage/);
    assert.match(res.stderr, /command/);
    assert.match(res.stderr, /no-command\.yaml/);
    assert.equal(existsSync(join(tmp.dir, 'up')), false);
  });
});
