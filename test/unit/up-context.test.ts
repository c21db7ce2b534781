import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveAdminTarget } from '../../src/cli/admin-commands.js';
import {
  contextPath,
  readUpContext,
  removeUpContext,
  type UpContext,
  writeUpContext,
} from '../../src/cli/up-context.js';
import { ConfigError } from '../../src/core/index.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A fresh FLOTILLA_HOME that does not exist yet (writeUpContext must create it). */
async function home(): Promise<{ FLOTILLA_HOME: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-ctx-'));
  dirs.push(dir);
  return { FLOTILLA_HOME: join(dir, 'home') };
}

const ctx = (pid: number): UpContext => ({
  url: 'http://127.0.0.1:8080',
  adminUrl: 'http://127.0.0.1:8081',
  token: 'sesame',
  pid,
  file: '/srv/flotilla.yaml',
});

/** The pid of a process that has exited (and been reaped), so nothing answers to it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  assert.ok(child.pid !== undefined);
  return child.pid;
}

describe('up context file', () => {
  it('lives in FLOTILLA_HOME, defaulting to ~/.flotilla', () => {
    assert.equal(contextPath({ FLOTILLA_HOME: '/x/y' }), '/x/y/up.json');
    assert.equal(contextPath({}), join(homedir(), '.flotilla', 'up.json'));
  });

  it('round-trips through a file only its owner can read, leaving no temp file', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    assert.deepEqual(await readUpContext(env), ctx(process.pid));
    assert.equal((await stat(contextPath(env))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(env.FLOTILLA_HOME), ['up.json']);
    const { token: _, ...noToken } = ctx(process.pid);
    await writeUpContext(noToken, env);
    assert.deepEqual(await readUpContext(env), noToken);
  });

  it('reads as missing when there is no file or its pid is dead', async () => {
    const env = await home();
    assert.equal(await readUpContext(env), undefined);
    await writeUpContext(ctx(await deadPid()), env);
    assert.equal(await readUpContext(env), undefined);
  });

  it('is removed only by the pid it names', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    assert.equal(await removeUpContext(process.pid + 1, env), false);
    assert.deepEqual(await readUpContext(env), ctx(process.pid));
    assert.equal(await removeUpContext(process.pid, env), true);
    await assert.rejects(readFile(contextPath(env)), { code: 'ENOENT' });
    assert.equal(await removeUpContext(process.pid, env), false);
  });

  it('names the file when it is corrupt or malformed', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    const path = contextPath(env);
    await writeFile(path, '{"url": ');
    await assert.rejects(readUpContext(env), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.file, path);
      assert.match(err.message, /up\.json: not a valid flotilla up context \(.*JSON/);
      return true;
    });
    await writeFile(path, JSON.stringify({ ...ctx(process.pid), pid: 'x', adminUrl: 'ftp://h' }));
    await assert.rejects(readUpContext(env), /adminUrl: expected an http\(s\) URL.*pid: /);
    // Shutdown must not fail over a file some other writer broke.
    assert.equal(await removeUpContext(process.pid, env), false);
  });
});

describe('resolveAdminTarget', () => {
  it("prefers flags, then the running up's context, then the default URL", async () => {
    const env = await home();
    assert.deepEqual(await resolveAdminTarget({}, env), { url: 'http://127.0.0.1:8080' });
    await writeUpContext(ctx(process.pid), env);
    assert.deepEqual(await resolveAdminTarget({}, env), { url: 'http://127.0.0.1:8081', token: 'sesame' });
    assert.deepEqual(await resolveAdminTarget({ adminToken: 't' }, env), {
      url: 'http://127.0.0.1:8081',
      token: 't',
    });
    assert.deepEqual(await resolveAdminTarget({ url: 'http://127.0.0.1:8081/' }, env), {
      url: 'http://127.0.0.1:8081',
      token: 'sesame',
    });
  });

  it('never sends the context token to another URL', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    assert.deepEqual(await resolveAdminTarget({ url: 'http://gw.example:9000' }, env), {
      url: 'http://gw.example:9000',
    });
  });

  it('does not read the context when the flags say everything', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    await writeFile(contextPath(env), 'corrupt');
    await assert.rejects(resolveAdminTarget({}, env), ConfigError);
    assert.deepEqual(await resolveAdminTarget({ url: 'http://h:1', adminToken: 'x' }, env), {
      url: 'http://h:1',
      token: 'x',
    });
  });
});
