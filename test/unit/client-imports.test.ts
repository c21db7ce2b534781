import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/paths.js';

const distRoot = join(ROOT, 'dist');

/** Every module URL a fresh Node process resolves while importing `entry`. */
function modulesLoadedBy(entry: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-imports-'));
  try {
    const record = join(dir, 'record.txt');
    const hooks = pathToFileURL(join(distRoot, 'test', 'helpers', 'import-recorder.js')).href;
    const script = [
      "import { register } from 'node:module';",
      `register(${JSON.stringify(hooks)});`,
      `await import(${JSON.stringify(pathToFileURL(entry).href)});`,
    ].join('\n');
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, IMPORT_RECORD: record },
    });
    return [...new Set(readFileSync(record, 'utf8').split('\n').filter(Boolean))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the client library loads no gateway, server or fleet code, and no metrics registry', () => {
  const loaded = modulesLoadedBy(join(distRoot, 'src', 'client', 'index.js'));
  const ours = loaded.filter((url) => url.includes('/dist/src/'));
  // The load-balancing pieces come from src/lb, the pure package the gateway imports too.
  assert.ok(
    ours.some((url) => url.endsWith('/dist/src/lb/index.js')),
    'the client uses src/lb',
  );
  const serverSide = ours.filter((url) =>
    /\/dist\/src\/(gateway|server|fleet|orchestrator|cli|ui|autoscaler)\//.test(url),
  );
  assert.deepEqual(serverSide, []);
  assert.deepEqual(
    loaded.filter((url) => url.includes('/prom-client/') || url === 'node:http2'),
    [],
  );
});

test('src/lb loads nothing but core and spec types', () => {
  const loaded = modulesLoadedBy(join(distRoot, 'src', 'lb', 'index.js'));
  const ours = loaded.filter((url) => url.includes('/dist/src/'));
  assert.deepEqual(
    ours.filter((url) => !/\/dist\/src\/(lb|core)\//.test(url)),
    [],
  );
});
