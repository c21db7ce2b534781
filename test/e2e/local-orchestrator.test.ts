import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/index.js';
import { LocalOrchestrator, type ReplicaEvent } from '../../src/orchestrator/index.js';
import { waitFor } from '../helpers/flotilla-process.js';
import { EXAMPLE_MODELS, FIXTURE_MODELS, ROOT } from '../helpers/paths.js';

const HTTP_OK = join(FIXTURE_MODELS, '..', 'replicas', 'http-ok.mjs');
const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function orchestrator(): { o: LocalOrchestrator; events: ReplicaEvent[] } {
  const o = new LocalOrchestrator(
    {
      startupTimeoutMs: 30_000,
      stopGraceMs: 3_000,
      backoff: { baseMs: 20, maxMs: 200, resetAfterMs: 10_000, crashLoopAfter: 3 },
      standby: true,
      standbyDelayMs: 100,
      maxStarting: 4,
    },
    { logger: silentLogger, now: () => performance.now() },
  );
  const events: ReplicaEvent[] = [];
  o.watch((e) => events.push(e));
  return { o, events };
}

const ready = (o: LocalOrchestrator, variant: string) =>
  o.list().filter((r) => r.variant === variant && r.state === 'ready');

describe('LocalOrchestrator: replicas as child processes', () => {
  const { o, events } = orchestrator();
  after(() => o.close());

  it('starts command replicas on their own $PORT and reports them ready', async () => {
    o.apply('web/v1', {
      kind: 'command',
      command: `${process.execPath} ${HTTP_OK}`,
      readinessPath: '/healthz',
    });
    o.scale('web/v1', 2);
    await waitFor(() => ready(o, 'web/v1').length === 2, 15_000, 'two ready replicas');
    const [a, b] = ready(o, 'web/v1');
    assert.notEqual(a!.address, b!.address);
    assert.match(await (await fetch(`http://${a!.address}/`)).text(), /^ok \d+/);
  });

  it('replaces a replica killed with SIGKILL', async () => {
    const victim = ready(o, 'web/v1')[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor(
      () => events.some((e) => e.type === 'crashed' && e.replica.id === victim.id),
      5_000,
      'crash reported',
    );
    await waitFor(
      () => ready(o, 'web/v1').length === 2 && !ready(o, 'web/v1').some((r) => r.id === victim.id),
      15_000,
      'replacement',
    );
    assert.ok(ready(o, 'web/v1').some((r) => r.restarts >= 1));
  });

  it('scales down by stopping replicas, leaving no process behind', async () => {
    const pids = ready(o, 'web/v1').map((r) => r.pid);
    o.scale('web/v1', 0);
    await waitFor(() => o.list().filter((r) => r.variant === 'web/v1').length === 0, 10_000, 'scale to zero');
    await waitFor(() => pids.every((p) => !alive(p)), 5_000, 'processes gone');
  });

  it('reports a crash loop and keeps retrying with backoff', async () => {
    o.apply('bad/v1', { kind: 'command', command: 'echo broken >&2; exit 3' });
    o.scale('bad/v1', 1);
    await waitFor(
      () => events.some((e) => e.type === 'crash-loop' && e.replica.variant === 'bad/v1'),
      10_000,
      'crash loop',
    );
    const loop = events.find((e) => e.type === 'crash-loop')!;
    assert.match(loop.detail ?? '', /crashes in a row; last: exited with code 3; last output: broken/);
    o.scale('bad/v1', 0);
  });

  it('runs a model replica pinned to one version', async () => {
    o.apply('mnist/canary', { kind: 'model', repository: EXAMPLE_MODELS, model: 'mnist', version: 2 });
    o.scale('mnist/canary', 1);
    await waitFor(() => ready(o, 'mnist/canary').length === 1, 30_000, 'model replica ready');
    const r = ready(o, 'mnist/canary')[0]!;
    const meta = (await (await fetch(`http://${r.address}/v2/models/mnist`)).json()) as {
      versions: string[];
    };
    assert.deepEqual(meta.versions, ['2']);
    assert.ok(r.grpcAddress);
    const pid = r.pid;
    await o.close();
    assert.equal(alive(pid), false);
  });
});

describe('no orphans', () => {
  it('a model replica exits by itself when its parent is killed with SIGKILL', async () => {
    const script = join(tmpdir(), `flotilla-parent-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { LocalOrchestrator } from ${JSON.stringify(join(ROOT, 'dist/src/orchestrator/index.js'))};
import { silentLogger } from ${JSON.stringify(join(ROOT, 'dist/src/core/index.js'))};
const o = new LocalOrchestrator({ startupTimeoutMs: 30000, stopGraceMs: 3000, backoff: { baseMs: 20, maxMs: 200, resetAfterMs: 10000, crashLoopAfter: 3 }, maxStarting: 2 }, { logger: silentLogger, now: () => performance.now() });
o.watch((e) => { if (e.type === 'ready') console.log('pid=' + e.replica.pid); });
o.apply('m/v', { kind: 'model', repository: ${JSON.stringify(EXAMPLE_MODELS)}, model: 'mnist', version: 1 });
o.scale('m/v', 1);
`,
    );
    const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const pid = Number(/pid=(\d+)/.exec(line.toString())?.[1]);
    assert.ok(alive(pid));
    parent.kill('SIGKILL');
    await waitFor(() => !alive(pid), 10_000, 'replica to exit after its parent died');
  });
});
