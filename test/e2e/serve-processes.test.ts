import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type FlotillaProcess, startServe, waitFor } from '../helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';
import { rawRequest } from '../helpers/raw-http.js';

const TOKEN = 'processes-test';
const infer = JSON.stringify({
  inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5) }],
});

/** One request on a connection of its own: the primary deals new connections out in turn. */
const fresh = (server: FlotillaProcess, method: string, path: string, body?: string) =>
  rawRequest(server.url, method, path, body, { connection: 'close', authorization: `Bearer ${TOKEN}` });

function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return [];
  }
}

describe('flotilla serve --processes 2', () => {
  let server: FlotillaProcess;
  before(async () => {
    server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'mnist:2',
      '--poll-interval',
      '0',
      '--processes',
      '2',
      '--admin-token',
      TOKEN,
    ]);
    // Both processes listen (each logs it with its pid) before the test goes on.
    const deadline = Date.now() + 30_000;
    while ((server.logs().match(/listening http=.* pid=\d+/g) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  });
  after(async () => {
    if (server.proc.exitCode === null) await server.stop();
  });

  it('regression (issue 17): logs one ready line for the group once both processes loaded', async () => {
    await waitFor(() => /info {2}ready models=/.test(server.logs()), 30_000, 'the ready line');
    assert.equal(
      (server.logs().match(/ ready models=mnist:2 processes=2\n/g) ?? []).length,
      1,
      server.logs(),
    );
    assert.equal((server.logs().match(/process ready models=mnist:2 pid=\d+/g) ?? []).length, 2);
  });

  it('starts two server processes that share the ports', () => {
    const pids = new Set(
      [...server.logs().matchAll(/listening http=\S+ grpc=\S+ .* pid=(\d+)/g)].map((m) => m[1]),
    );
    assert.equal(pids.size, 2, server.logs());
    assert.equal(children(server.proc.pid!).length, 2);
  });

  it('answers on every connection, and /metrics counts the requests of both processes', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => fresh(server, 'POST', '/v2/models/mnist/versions/2/infer', infer)),
    );
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    const text = (await fresh(server, 'GET', '/metrics')).body.toString('utf8');
    assert.match(text, /flotilla_inference_request_success_total\{model="mnist",version="2"\} 40\n/);
    assert.match(text, /flotilla_model_ready\{model="mnist",version="2"\} 1\n/);
  });

  it('applies a repository unload and load in every process', async () => {
    assert.equal((await fresh(server, 'POST', '/v2/repository/models/mnist/unload')).status, 200);
    const gone = await Promise.all(
      Array.from({ length: 10 }, () => fresh(server, 'POST', '/v2/models/mnist/versions/2/infer', infer)),
    );
    assert.deepEqual(new Set(gone.map((a) => a.status)), new Set([404]), 'no process still serves it');
    assert.equal((await fresh(server, 'POST', '/v2/repository/models/mnist/load')).status, 200);
    const back = await Promise.all(
      Array.from({ length: 10 }, () => fresh(server, 'POST', '/v2/models/mnist/versions/2/infer', infer)),
    );
    assert.deepEqual(new Set(back.map((a) => a.status)), new Set([200]));
  });

  it('starts another process when one dies', async () => {
    const [victim] = children(server.proc.pid!);
    process.kill(victim!, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    while ((server.logs().match(/listening http=.* pid=\d+/g) ?? []).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(server.logs(), /server process exited; starting another .*signal=SIGKILL/);
    const pids = children(server.proc.pid!);
    assert.equal(pids.length, 2);
    assert.ok(!pids.includes(victim!));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => fresh(server, 'POST', '/v2/models/mnist/versions/2/infer', infer)),
    );
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  });

  it('drains every process on SIGTERM and exits 0 with none left', async () => {
    const pids = children(server.proc.pid!);
    assert.equal(await server.stop('SIGTERM'), 0);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} is gone`);
  });
});
