/**
 * End-to-end tests of `flotilla up` against an operator's mistakes (issue 17): `flotilla scale`
 * far above the variant's max or the machine (refused; `--force` capped and reported), `up`
 * answering its admin API while replicas start, Ctrl-C ending everything within the drain
 * timeout (a second signal at once), and variants whose replicas cannot start (a missing model
 * version, a mistyped repository) failing their requests fast with the reason. The real CLI,
 * real child processes, loopback only.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, describe, it } from 'node:test';
import {
  alive,
  assertAllGone,
  groupAlive,
  jsonOf,
  replicaCommand,
  runCli,
  send,
  startUp,
  tail,
  tempDir,
  type UpProcess,
  writeFile,
} from '../fixtures/up/up-helpers.js';
import { waitFor } from '../helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

/** One admin GET of the status, timed. */
async function timedStatus(up: UpProcess): Promise<number> {
  const t0 = performance.now();
  const res = await up.admin('GET', '/_flotilla/status', undefined, 5_000);
  assert.equal(res.status, 200);
  return performance.now() - t0;
}

describe('flotilla up: flotilla scale 100 (a typo for 10)', () => {
  const tmp = tempDir('up-scale-limit');
  const ups: UpProcess[] = [];
  after(async () => {
    for (const up of ups) await up.cleanup();
    tmp.cleanup();
  });

  it("above the variant's max: refused with the reason, nothing changes; --force pins the max and says so", async () => {
    const file = writeFile(
      tmp.dir,
      'max.yaml',
      `services:
  echo:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name main'))}
        scale: { min: 1, max: 2, stableWindow: 6s }
`,
    );
    const up = await startUp(file);
    ups.push(up);
    const refused = await runCli(up.home, ['scale', 'echo', 'main', '100']);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /echo\/main: 100 replicas is above the limit: the variant's max is 2/);
    assert.match(
      refused.stderr,
      /Nothing was changed; the most allowed is 2 \(flotilla scale --force pins that\)/,
    );
    assert.doesNotMatch(refused.stderr, /cannot reach/);
    const unchanged = await up.variant('echo', 'main');
    assert.deepEqual([unchanged.scale!.desired, unchanged.scale!.pinned], [1, false]);

    const forced = await runCli(up.home, ['scale', 'echo', 'main', '100', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /asked 100, capped at 2 \(echo\/main: 100 replicas is above the limit/);
    assert.match(forced.stdout, /echo\/main: scaling to 2 replicas \(min = max = 2\)/);
    await waitFor(async () => (await up.variant('echo', 'main')).scale!.ready === 2, 20_000, '2 ready');
    const v = await up.variant('echo', 'main');
    assert.deepEqual([v.scale!.desired, v.scale!.pinned, v.replicas.length], [2, true, 2]);
    assert.match(up.logs(), /pinned to 2 \(asked 100, capped by --force/);
  });

  it('above what the machine holds: refused; forced, capped at cores x 4; admin answers within 1 s while they start; Ctrl-C ends it all within the drain timeout', async (t) => {
    const file = writeFile(
      tmp.dir,
      'machine.yaml',
      `services:
  slow:
    variants:
      - tag: main
        command: ${JSON.stringify(replicaCommand('--name slow --start-delay 2000'))}
        scale: { min: 1, max: 1000, stableWindow: 6s }
`,
    );
    const drainTimeoutMs = 5_000;
    const up = await startUp(file, ['--drain-timeout', String(drainTimeoutMs)]);
    ups.push(up);
    await waitFor(async () => (await up.variant('slow', 'main')).scale!.ready === 1, 20_000, 'first replica');
    const holds = availableParallelism() * 4;
    const refused = await runCli(up.home, ['scale', 'slow', 'main', '500']);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      new RegExp(`this machine holds ${holds}: ${availableParallelism()} cores x 4`),
    );

    const t0 = performance.now();
    const forced = await up.admin('PUT', '/_flotilla/services/slow/variants/main/scale', {
      replicas: 500,
      force: true,
    });
    const answerMs = performance.now() - t0;
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    const scaled = (forced.body as { scaled: { requested: number; applied: number; capped?: string } })
      .scaled;
    assert.deepEqual([scaled.requested, scaled.applied], [500, holds]);
    assert.ok(answerMs < 1000, `the scale answer took ${Math.round(answerMs)} ms`);

    // While the replicas start (2 s each, a few at a time), the admin API answers within 1 s.
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      times.push(await timedStatus(up));
      await new Promise((r) => setTimeout(r, 150));
    }
    t.diagnostic(`status answers while starting: ${times.map(Math.round).join(', ')} ms`);
    assert.ok(Math.max(...times) < 1000, `slowest status answer ${Math.round(Math.max(...times))} ms`);
    const v = await up.variant('slow', 'main');
    assert.equal(v.scale!.desired, holds);
    assert.ok(
      v.replicas.some((r) => r.state === 'starting'),
      `replicas still starting: ${JSON.stringify(v.replicas.map((r) => r.state))}`,
    );

    // Ctrl-C in the middle of the starts: everything below `up` gone within the drain timeout.
    const below = up.descendants();
    assert.ok(below.length >= 2, `processes below up: ${below}`);
    const { code, ms } = await up.stop('SIGINT', drainTimeoutMs + 10_000);
    t.diagnostic(`stopped in ${ms} ms (drain timeout ${drainTimeoutMs} ms)`);
    assert.equal(code, 0, tail(up.logs()));
    assert.ok(ms < drainTimeoutMs, `took ${ms} ms`);
    assertAllGone([...below, ...up.pids], 'after Ctrl-C');
    // Nothing started once draining began.
    const logs = up.logs();
    const drainAt = logs.indexOf(' draining ');
    assert.ok(drainAt > 0, tail(logs));
    assert.doesNotMatch(logs.slice(drainAt), /replica ready|initial scale|scale from zero/);
  });

  it('a replica that ignores SIGTERM: up exits at the drain timeout; a second Ctrl-C exits at once; no process left', async (t) => {
    const file = writeFile(
      tmp.dir,
      'stubborn.yaml',
      `services:
  stubborn:
    variants:
      - tag: main
        command: ${JSON.stringify(`exec ${replicaCommand('--name stubborn --ignore-sigterm')}`)}
        scale: { min: 1, max: 2, stableWindow: 6s }
`,
    );
    for (const second of [false, true]) {
      const drainTimeoutMs = second ? 60_000 : 2_000;
      const up = await startUp(file, ['--drain-timeout', String(drainTimeoutMs)]);
      ups.push(up);
      await waitFor(async () => (await up.variant('stubborn', 'main')).scale!.ready === 1, 20_000, 'ready');
      await up.status();
      const below = up.descendants();
      const t0 = performance.now();
      const exited = new Promise<number | null>((r) => up.proc.once('exit', (c) => r(c)));
      up.proc.kill('SIGINT');
      if (second) {
        await new Promise((r) => setTimeout(r, 500));
        up.proc.kill('SIGINT');
      }
      const code = await exited;
      const ms = performance.now() - t0;
      t.diagnostic(
        `${second ? 'second signal' : 'drain timeout'}: exited ${code} after ${Math.round(ms)} ms`,
      );
      assert.equal(code, 1, tail(up.logs()));
      if (second) {
        assert.ok(ms < 3000, `took ${Math.round(ms)} ms`);
        assert.match(up.logs(), /second signal: killing replicas without draining/);
      } else {
        assert.ok(ms >= drainTimeoutMs - 100 && ms < drainTimeoutMs + 3000, `took ${Math.round(ms)} ms`);
        assert.match(up.logs(), /drain timeout: killing the replicas left/);
      }
      await waitFor(
        () => [...below, ...up.pids].every((p) => !alive(p) && !groupAlive(p)),
        5_000,
        'all gone',
      );
      assertAllGone([...below, ...up.pids], 'after exit');
    }
  });
});

describe('flotilla up: variants whose replicas cannot start fail their requests fast', () => {
  const tmp = tempDir('up-cannot-start');
  const ups: UpProcess[] = [];
  after(async () => {
    for (const up of ups) await up.cleanup();
    tmp.cleanup();
  });

  for (const c of [
    {
      name: 'a variant pinned to a version the repository does not have',
      model: `{ repository: ${JSON.stringify(EXAMPLE_MODELS)}, name: mnist, version: 7 }`,
      // The replica's own one line (serve fails fast) or the handshake's reading of it.
      reason: /mnist version 7|"mnist" has no version 7/,
    },
    {
      name: 'a mistyped repository',
      model: `{ repository: ${JSON.stringify(`${EXAMPLE_MODELS}-typo`)}, name: mnist }`,
      reason: /models-typo/,
    },
  ]) {
    it(`${c.name}: 503 FLT_REPLICA_FAILED with the reason, not a hang; status and the log say why, once`, async (t) => {
      const file = writeFile(
        tmp.dir,
        'broken.yaml',
        `services:
  mnist:
    variants:
      - tag: main
        model: ${c.model}
        scale: { min: 0, max: 1, initial: 0, stableWindow: 6s, scaleToZeroAfter: 30s }
`,
      );
      const up = await startUp(file, ['--activator-timeout', '60000']);
      ups.push(up);
      const o = await send(up.url, { path: '/v2/models/mnist/infer', body: '{}' });
      t.diagnostic(`answered ${o.status} after ${Math.round(o.ms)} ms: ${o.body}`);
      assert.equal(o.status, 503, o.body);
      assert.equal(jsonOf(o).code, 'FLT_REPLICA_FAILED', o.body);
      assert.match(jsonOf(o).error ?? '', c.reason);
      assert.ok(o.ms < 20_000, `failed after ${o.ms} ms, not after the 60 s activator timeout`);
      // A request while it still cannot start fails at once.
      const again = await send(up.url, { path: '/v2/models/mnist/infer', body: '{}' });
      assert.equal(jsonOf(again).code, 'FLT_REPLICA_FAILED', again.body);
      assert.ok(again.ms < 1000, `second answer after ${again.ms} ms`);
      const v = await up.variant('mnist', 'main');
      assert.match(v.scale!.failure ?? '', c.reason);
      // Retried with backoff meanwhile, but said once.
      await new Promise((r) => setTimeout(r, 3000));
      const said = up.logs().match(/variant cannot start replicas/g) ?? [];
      assert.equal(said.length, 1, tail(up.logs()));
      const { code } = await up.stop('SIGTERM', 20_000);
      assert.equal(code, 0, tail(up.logs()));
    });
  }
});
