import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/flotilla-process.js';
import { CLI } from '../helpers/paths.js';

/**
 * Issue 17, item 3: with two `flotilla up` running, `status`, `scale` and `rollout` acted on the
 * last one started without saying so, and the first one's token was lost. Now each `up` has its
 * own context, the commands say which fleet they talk to, refuse to guess, and take `--context`.
 */

const SERVICES = `services:
  web:
    variants:
      - { tag: main, weight: 1, endpoints: "list://127.0.0.1:9" }
`;

interface Up {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
}

describe('issue 17 item 3: two flotilla up side by side', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-contexts-'));
  const home = join(dir, 'home');
  // PATH without a `flotilla` executable: the banner must print what works here, `npx flotilla`.
  const env: NodeJS.ProcessEnv = { ...process.env, FLOTILLA_HOME: home, PATH: dirname(process.execPath) };
  delete env['FLOTILLA_URL'];
  delete env['FLOTILLA_ADMIN_TOKEN'];
  delete env['FLOTILLA_CONTEXT'];
  const ups: Up[] = [];

  const startUp = async (name: string): Promise<Up> => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, SERVICES);
    const proc = spawn(process.execPath, [CLI, 'up', file, '--port', '0'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const up: Up = { proc, stdout: '', stderr: '' };
    proc.stdout!.on('data', (d: Buffer) => (up.stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (up.stderr += d.toString()));
    ups.push(up);
    await waitFor(() => up.stdout.includes('Ctrl-C'), 30_000, `flotilla up ${name}'s banner`);
    return up;
  };

  const cli = (args: readonly string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });

  let a: Up;
  let b: Up;
  before(async () => {
    a = await startUp('alpha');
    b = await startUp('beta');
  });
  after(async () => {
    for (const up of ups) {
      if (up.proc.exitCode === null && up.proc.signalCode === null) {
        const exited = once(up.proc, 'exit');
        up.proc.kill('SIGTERM');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('each up prints its context and commands that run as pasted here', () => {
    assert.match(a.stdout, /^ {2}context {2}alpha\b/m);
    assert.match(a.stdout, /^ {2}npx flotilla status --context alpha\b/m);
    assert.match(b.stdout, /^ {2}npx flotilla scale --context beta SERVICE VARIANT N\b/m);
  });

  it('each keeps its own context file and token', () => {
    const token = (name: string) =>
      (JSON.parse(readFileSync(join(home, 'up', `${name}.json`), 'utf8')) as { token: string }).token;
    assert.ok(token('alpha').length > 10);
    assert.ok(token('beta').length > 10);
    assert.notEqual(token('alpha'), token('beta'));
  });

  it('status without --context refuses to guess: one line listing both, exit 2', async () => {
    const res = await cli(['status']);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stdout, '');
    const lines = res.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, res.stderr);
    assert.match(
      lines[0]!,
      /^flotilla status: 2 flotilla up are running; choose one with --context NAME or --url URL \(running: alpha \(pid \d+\): .*alpha\.yaml, admin http:\/\/127\.0\.0\.1:\d+; beta \(pid \d+\): .*beta\.yaml/,
    );
  });

  it('--context picks one, and the output says which fleet it shows', async () => {
    for (const name of ['alpha', 'beta']) {
      const res = await cli(['status', '--context', name]);
      assert.equal(res.code, 0, res.stderr);
      const first = res.stdout.split('\n')[0]!;
      assert.match(first, new RegExp(`^fleet ${name}: .*${name}\\.yaml, admin http://127\\.0\\.0\\.1:\\d+$`));
      assert.match(res.stdout, /service web/);
    }
    const json = await cli(['status', '--context', 'alpha', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.match(json.stderr, /^fleet alpha: /);
    assert.ok(Array.isArray((JSON.parse(json.stdout) as { services: unknown[] }).services));
  });

  it('once one stops, its context goes and the commands find the other alone', async () => {
    const exited = once(a.proc, 'exit');
    a.proc.kill('SIGTERM');
    await exited;
    assert.equal(existsSync(join(home, 'up', 'alpha.json')), false);
    const res = await cli(['status']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout.split('\n')[0]!, /^fleet beta: /);
  });
});
