import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLI, ROOT } from '../helpers/paths.js';

describe('gateway docs stay true to the code', () => {
  it('docs/gateway.md documents every flag of `flotilla gateway --help`', () => {
    const help = execFileSync(process.execPath, [CLI, 'gateway', '--help'], { encoding: 'utf8' });
    const flags = [...help.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!).filter((f) => f !== '--help');
    const page = readFileSync(`${ROOT}docs/gateway.md`, 'utf8');
    for (const flag of flags)
      assert.ok(page.includes(`\`${flag}`), `docs/gateway.md does not mention ${flag}`);
    assert.ok(flags.length >= 6);
  });

  it('docs/service-file.md names every field of the example files', () => {
    const page = readFileSync(`${ROOT}docs/service-file.md`, 'utf8');
    for (const name of ['design-example.yaml', 'static.yaml']) {
      const text = readFileSync(`${ROOT}test/fixtures/services/${name}`, 'utf8').replace(/#.*$/gm, '');
      const keys = new Set([...text.matchAll(/([A-Za-z][A-Za-z0-9]*):\s/g)].map((m) => m[1]!));
      // Service names and tags are the user's, not fields.
      for (const k of ['services', 'mnist', 'legacy', 'ximage', 'list', 'http']) keys.delete(k);
      for (const k of keys)
        assert.ok(page.includes(`\`${k}\``), `docs/service-file.md does not mention ${k}`);
    }
  });
});
