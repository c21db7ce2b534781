import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveAdminTarget } from '../../src/cli/admin-commands.js';
import {
  contextDir,
  contextName,
  contextPath,
  listUpContexts,
  removeUpContext,
  type UpContext,
  writeUpContext,
} from '../../src/cli/up-context.js';
import { ConfigError, UsageError } from '../../src/core/index.js';

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

describe('up context files', () => {
  it('live in FLOTILLA_HOME/up, defaulting to ~/.flotilla/up, one per running up', () => {
    assert.equal(contextDir({ FLOTILLA_HOME: '/x/y' }), '/x/y/up');
    assert.equal(contextDir({}), join(homedir(), '.flotilla', 'up'));
    assert.equal(contextPath('flotilla', { FLOTILLA_HOME: '/x/y' }), '/x/y/up/flotilla.json');
  });

  it('are named after the service file, with the pid when the name is taken', () => {
    assert.equal(contextName('/srv/flotilla.yaml', 42, new Set()), 'flotilla');
    assert.equal(contextName('/srv/flotilla.yaml', 42, new Set(['flotilla'])), 'flotilla-42');
    assert.equal(contextName('/srv/my fleet.yml', 42, new Set()), 'my-fleet');
    assert.equal(contextName('/srv/--.yaml', 42, new Set()), 'up');
  });

  it('round-trip through a file only its owner can read, leaving no temp file', async () => {
    const env = await home();
    assert.equal(await writeUpContext(ctx(process.pid), env), 'flotilla');
    assert.deepEqual(await listUpContexts(env), [{ name: 'flotilla', ...ctx(process.pid) }]);
    assert.equal((await stat(contextPath('flotilla', env))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(contextDir(env)), ['flotilla.json']);
    const { token: _, ...noToken } = ctx(process.pid);
    // The same up writing again keeps its name.
    assert.equal(await writeUpContext(noToken, env), 'flotilla');
    assert.deepEqual(await listUpContexts(env), [{ name: 'flotilla', ...noToken }]);
  });

  it('regression (issue 17): a second up of the same file keeps the first one and its token', async () => {
    const env = await home();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      assert.equal(await writeUpContext(ctx(other.pid!), env), 'flotilla');
      assert.equal(
        await writeUpContext(
          { ...ctx(process.pid), token: 'second', adminUrl: 'http://127.0.0.1:9091' },
          env,
        ),
        `flotilla-${process.pid}`,
      );
      const all = await listUpContexts(env);
      assert.deepEqual(
        all.map((c) => [c.name, c.token]),
        [
          ['flotilla', 'sesame'],
          [`flotilla-${process.pid}`, 'second'],
        ],
      );
    } finally {
      other.kill();
    }
  });

  it('a stale one (its pid is dead) is ignored and removed', async () => {
    const env = await home();
    assert.deepEqual(await listUpContexts(env), []);
    await writeUpContext(ctx(await deadPid()), env);
    assert.deepEqual(await listUpContexts(env), []);
    assert.deepEqual(await readdir(contextDir(env)), []);
  });

  it('is removed only by the pid it names', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    assert.equal(await removeUpContext(process.pid + 1, env), false);
    assert.equal((await listUpContexts(env)).length, 1);
    assert.equal(await removeUpContext(process.pid, env), true);
    await assert.rejects(readFile(contextPath('flotilla', env)), { code: 'ENOENT' });
    assert.equal(await removeUpContext(process.pid, env), false);
  });

  it('names the file when it is corrupt or malformed', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    const path = contextPath('flotilla', env);
    await writeFile(path, '{"url": ');
    await assert.rejects(listUpContexts(env), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.file, path);
      assert.match(err.message, /flotilla\.json: not a valid flotilla up context \(.*JSON/);
      return true;
    });
    await writeFile(path, JSON.stringify({ ...ctx(process.pid), pid: 'x', adminUrl: 'ftp://h' }));
    await assert.rejects(listUpContexts(env), /adminUrl: expected an http\(s\) URL.*pid: /);
    // Shutdown must not fail over a file some other writer broke.
    assert.equal(await removeUpContext(process.pid, env), false);
  });
});

describe('resolveAdminTarget', () => {
  it("prefers flags, then the running up's context, then the default URL", async () => {
    const env = await home();
    assert.deepEqual((await resolveAdminTarget({}, env)).client, { url: 'http://127.0.0.1:8080' });
    await writeUpContext(ctx(process.pid), env);
    const target = await resolveAdminTarget({}, env);
    assert.deepEqual(target.client, { url: 'http://127.0.0.1:8081', token: 'sesame' });
    assert.equal(target.fleet, 'fleet flotilla: /srv/flotilla.yaml, admin http://127.0.0.1:8081');
    assert.deepEqual((await resolveAdminTarget({ adminToken: 't' }, env)).client, {
      url: 'http://127.0.0.1:8081',
      token: 't',
    });
    assert.deepEqual((await resolveAdminTarget({ url: 'http://127.0.0.1:8081/' }, env)).client, {
      url: 'http://127.0.0.1:8081',
      token: 'sesame',
    });
  });

  it('never sends the context token to another URL', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    const target = await resolveAdminTarget({ url: 'http://gw.example:9000' }, env);
    assert.deepEqual(target.client, { url: 'http://gw.example:9000' });
    assert.equal(target.fleet, 'fleet at http://gw.example:9000');
  });

  it('does not read the context when the flags say everything', async () => {
    const env = await home();
    await writeUpContext(ctx(process.pid), env);
    await writeFile(contextPath('flotilla', env), 'corrupt');
    await assert.rejects(resolveAdminTarget({}, env), ConfigError);
    assert.deepEqual((await resolveAdminTarget({ url: 'http://h:1', adminToken: 'x' }, env)).client, {
      url: 'http://h:1',
      token: 'x',
    });
  });

  it('regression (issue 17): with two up running it refuses to guess, and --context picks one', async () => {
    const env = await home();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeUpContext(
        { ...ctx(other.pid!), file: '/srv/a.yaml', adminUrl: 'http://127.0.0.1:7001' },
        env,
      );
      await writeUpContext({ ...ctx(process.pid), file: '/srv/b.yaml', token: 'b-token' }, env);
      await assert.rejects(resolveAdminTarget({}, env), (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.flag, '--context');
        assert.match(
          err.message,
          /^2 flotilla up are running; choose one with --context NAME or --url URL \(running: a \(pid \d+\): \/srv\/a\.yaml, admin http:\/\/127\.0\.0\.1:7001; b \(pid \d+\): \/srv\/b\.yaml, admin http:\/\/127\.0\.0\.1:8081\)$/,
        );
        return true;
      });
      const b = await resolveAdminTarget({ context: 'b' }, env);
      assert.deepEqual(b.client, { url: 'http://127.0.0.1:8081', token: 'b-token' });
      assert.equal(b.fleet, 'fleet b: /srv/b.yaml, admin http://127.0.0.1:8081');
      const a = await resolveAdminTarget({ context: String(other.pid) }, env);
      assert.deepEqual(a.client, { url: 'http://127.0.0.1:7001', token: 'sesame' });
      // --url names one too, and gets its token.
      assert.deepEqual((await resolveAdminTarget({ url: 'http://127.0.0.1:7001' }, env)).client, {
        url: 'http://127.0.0.1:7001',
        token: 'sesame',
      });
      await assert.rejects(
        resolveAdminTarget({ context: 'c' }, env),
        /no running flotilla up named "c" \(running: a /,
      );
      await assert.rejects(resolveAdminTarget({ context: 'a', url: 'http://h:1' }, env), UsageError);
    } finally {
      other.kill();
    }
  });
});
