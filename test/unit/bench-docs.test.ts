import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLI, ROOT } from '../helpers/paths.js';

describe('docs/bench.md stays true to `flotilla bench`', () => {
  const page = readFileSync(`${ROOT}docs/bench.md`, 'utf8');

  it('documents every flag of `flotilla bench --help`', () => {
    const help = execFileSync(process.execPath, [CLI, 'bench', '--help'], { encoding: 'utf8' });
    const flags = [...help.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!).filter((f) => f !== '--help');
    assert.ok(flags.length >= 30, `only ${flags.length} flags in --help`);
    for (const flag of flags) assert.ok(page.includes(`| \`${flag}`), `docs/bench.md has no row for ${flag}`);
  });

  it('documents the JSON fields the issue asks for', () => {
    for (const field of [
      'throughput',
      'latency_ms',
      'requests',
      'errors',
      'accuracy',
      'windows',
      'variants',
      'events',
    ])
      assert.ok(page.includes(`\`${field}\``), field);
  });
});
