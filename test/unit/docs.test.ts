import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/core/index.js';
import { CLI, ROOT } from '../helpers/paths.js';

describe('docs stay true to the code', () => {
  it('docs/errors.md lists every error code with its HTTP and gRPC status', () => {
    const page = readFileSync(`${ROOT}docs/errors.md`, 'utf8');
    const listed = [...page.matchAll(/^\|\s*`(FLT_\w+)`\s*\|\s*(\d+)\s*\|\s*(\w+)\s*\|/gm)].map((m) => [
      m[1],
      Number(m[2]),
      m[3],
    ]);
    const expected = Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, e.http, e.grpc]);
    assert.deepEqual(listed, expected);
  });

  it('docs/operations.md documents every flag of `flotilla serve --help`', () => {
    const help = execFileSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    const flags = [...help.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!).filter((f) => f !== '--help');
    const page = readFileSync(`${ROOT}docs/operations.md`, 'utf8');
    for (const flag of flags)
      assert.ok(page.includes(`\`${flag}`), `docs/operations.md does not mention ${flag}`);
    assert.ok(flags.length >= 8);
  });
});
