import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServe, waitFor } from '../helpers/flotilla-process.js';
import { CLI, EXAMPLE_MODELS, ROOT } from '../helpers/paths.js';
import { tempRepository } from '../helpers/temp-repo.js';

/**
 * Issue 17, items 2, 4 (serve) and 5: the mistakes an operator makes at the command line get one
 * line naming the flag and exit 2, not a native abort (exit 134), a stack trace, or a server that
 * starts "ready" with nothing loaded.
 */

interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

function runCli(args: readonly string[], timeoutMs = 20_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
      resolve({
        code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
        signal: e?.signal ?? null,
        stderr,
      });
    });
  });
}

/** Exit 2 with exactly one line on stderr, matching `line`. */
function assertOneLine(ran: Ran, line: RegExp): void {
  assert.equal(ran.signal, null, ran.stderr);
  assert.equal(ran.code, 2, ran.stderr);
  const lines = ran.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, ran.stderr);
  assert.match(lines[0]!, line);
}

describe('issue 17 item 2: a busy port is one line naming the flag, exit 2', () => {
  let holder: Server;
  let port: number;
  before(async () => {
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    port = (holder.address() as { port: number }).port;
  });
  after(() => holder.close());

  it('serve, gRPC port taken: no native abort (was exit 134, Napi::Error)', async () => {
    const ran = await runCli([
      'serve',
      '--model-repository',
      EXAMPLE_MODELS,
      '--http-port',
      '0',
      '--grpc-port',
      String(port),
    ]);
    assertOneLine(ran, new RegExp(`^flotilla serve: port ${port} \\(--grpc-port\\) is in use$`));
  });

  it('serve, HTTP port taken (and with --processes 2)', async () => {
    const base = ['serve', '--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--grpc-port', '0'];
    const line = new RegExp(`^flotilla serve: port ${port} \\(--http-port\\) is in use$`);
    assertOneLine(await runCli([...base, '--http-port', String(port)]), line);
    assertOneLine(await runCli([...base, '--http-port', String(port), '--processes', '2']), line);
  });

  it('gateway and up, HTTP port taken', async () => {
    assertOneLine(
      await runCli([
        'gateway',
        '--config',
        join(ROOT, 'test/fixtures/services/static.yaml'),
        '--port',
        String(port),
      ]),
      new RegExp(`^flotilla gateway: port ${port} \\(--port\\) is in use$`),
    );
    const home = mkdtempSync(join(tmpdir(), 'flotilla-home-'));
    try {
      const ran = await new Promise<Ran>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'up', join(ROOT, 'examples/flotilla.yaml'), '--port', String(port)],
          { timeout: 20_000, env: { ...process.env, FLOTILLA_HOME: home } },
          (err, _stdout, stderr) => {
            const e = err as (Error & { code?: number; signal?: NodeJS.Signals }) | null;
            resolve({ code: e?.code ?? 0, signal: e?.signal ?? null, stderr });
          },
        );
      });
      assertOneLine(ran, new RegExp(`^flotilla up: port ${port} \\(--port\\) is in use$`));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('issue 17 item 4: serve fails fast when what it was asked to load does not exist', () => {
  const serve = (repo: string, ...rest: string[]) =>
    runCli(['serve', '--model-repository', repo, '--http-port', '0', '--grpc-port', '0', ...rest]);
  const empty = mkdtempSync(join(tmpdir(), 'flotilla-empty-'));
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('a repository folder too high names the folder below that holds models', async () => {
    assertOneLine(
      await serve(join(ROOT, 'examples')),
      /^flotilla serve: no model in .*examples, but models are in folders below it: .*examples\/models \(digit, mnist, .*\); use --model-repository .*examples\/models$/,
    );
  });

  it('too deep: a model folder or a version folder names the repository above', async () => {
    assertOneLine(
      await serve(join(EXAMPLE_MODELS, 'mnist')),
      /^flotilla serve: .*mnist is the model folder of "mnist", not a repository; use --model-repository .*examples\/models$/,
    );
    assertOneLine(
      await serve(join(EXAMPLE_MODELS, 'mnist', '1')),
      /^flotilla serve: .*mnist\/1 is version 1 of model "mnist", not a repository; use --model-repository .*examples\/models$/,
    );
  });

  it('an empty folder, and one that does not exist', async () => {
    assertOneLine(
      await serve(empty),
      /^flotilla serve: no model in .*: a repository holds one folder per model/,
    );
    assertOneLine(
      await serve(join(empty, 'nope')),
      /^flotilla serve: --model-repository .*nope does not exist$/,
    );
  });

  it('--models nosuch and --models mnist:7 say what exists', async () => {
    assertOneLine(
      await serve(EXAMPLE_MODELS, '--models', 'mnist,nosuch'),
      /^flotilla serve: --models nosuch: no model "nosuch" in .* \(models: digit, mnist, ocr/,
    );
    assertOneLine(
      await serve(EXAMPLE_MODELS, '--models', 'mnist:7'),
      /^flotilla serve: --models mnist:7: model "mnist" has no version 7 in .* \(versions: 1, 2\)$/,
    );
  });

  it('ready means the models asked for loaded: a model that fails keeps it 503, and says why', async () => {
    const repo = tempRepository(['mnist']);
    mkdirSync(join(repo.dir, 'broken', '1'), { recursive: true });
    writeFileSync(join(repo.dir, 'broken', 'config.yaml'), 'backend: onnx\n');
    writeFileSync(join(repo.dir, 'broken', '1', 'model.onnx'), 'not an onnx model');
    const server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0'], {
      waitReady: false,
    });
    try {
      await waitFor(() => /not ready reason=/.test(server.logs()), 60_000, 'the not ready line');
      assert.doesNotMatch(server.logs(), / ready models=/);
      const res = await fetch(`${server.url}/v2/health/ready`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { ready: boolean; reason: string };
      assert.equal(body.ready, false);
      assert.match(body.reason, /model "broken" version 1 failed to load/);
      assert.equal((await fetch(`${server.url}/v2/models/mnist/ready`)).status, 200);
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});

describe('issue 17 item 5: an invalid config.yaml is logged once per change, not every poll', () => {
  it('three polls, one line; an edit, one more line', async () => {
    const repo = tempRepository(['mnist']);
    mkdirSync(join(repo.dir, 'bad', '1'), { recursive: true });
    const config = join(repo.dir, 'bad', 'config.yaml');
    writeFileSync(config, 'backend: onnx\nno_such_key: 1\n');
    const server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0.1'], {
      waitReady: false,
    });
    const count = () => (server.logs().match(/invalid model config model=bad/g) ?? []).length;
    try {
      await waitFor(() => count() >= 1, 30_000, 'the first invalid config line');
      // At least five polls pass (0.1 s each): the line must not come back.
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(count(), 1, server.logs());
      writeFileSync(config, 'backend: onnx\nanother_bad_key: 2\n');
      utimesSync(config, new Date(), new Date(Date.now() + 5000));
      await waitFor(() => count() >= 2, 10_000, 'the changed config logged again');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(count(), 2, server.logs());
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});
