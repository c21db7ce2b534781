import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { weightsSummary } from '../../src/cli/admin-commands.js';
import { cliCommand } from '../../src/cli/up-banner.js';
import type { ServiceStatus } from '../../src/fleet/status.js';
import { CLI } from '../helpers/paths.js';

const run = promisify(execFile);

/** Issue 17, item 9: the smaller operator-facing wordings, each pinned. */
describe('CLI usage (issue 17 item 9)', () => {
  it('`flotilla tune` with no arguments names everything missing, with the usage, exit 2', async () => {
    const failed = await run(process.execPath, [CLI, 'tune'], { timeout: 20_000 }).then(
      () => assert.fail('expected exit 2'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 2);
    assert.equal(
      failed.stderr,
      'flotilla tune: missing <model>, --model-repository <dir>\n' +
        'Usage: flotilla tune --model-repository <dir> [options] <model>\n' +
        'Run `flotilla tune --help` for every option.\n',
    );
  });

  it('--help marks required options, in the usage line and their description', () => {
    // `serve` takes --model-repository or --model-dir, so neither is required on its own: `tune`'s is.
    const help = execFileSync(process.execPath, [CLI, 'tune', '--help'], { encoding: 'utf8' });
    assert.match(help, /^Usage: flotilla tune --model-repository <dir> \[options\] <model>$/m);
    assert.match(help, /--model-repository <dir>\s+\(required\)/);
    assert.doesNotMatch(help, /--concurrency[^\n]*\(required\)/);
  });

  it('set-weights says what it applied and the rollout it left (it said "no rollout" beside status\'s "manual 30%")', () => {
    const applied = {
      name: 'mnist',
      variants: [
        { tag: 'stable', weight: 70 },
        { tag: 'canary', weight: 30 },
      ],
    };
    const service = {
      ...applied,
      hosts: [],
      variants: [],
      rollout: { phase: 'manual', stable: 'stable', canary: 'canary', canaryWeight: 30 },
    } as unknown as ServiceStatus;
    assert.equal(
      weightsSummary(applied, service),
      'mnist: weights set: stable 70%, canary 30%; rollout: manual 30%  stable: stable  canary: canary',
    );
    assert.equal(
      weightsSummary(applied, undefined),
      'mnist: weights set: stable 70%, canary 30%; no progressive rollout',
    );
  });

  it('up prints `flotilla` when it is on PATH, else `npx flotilla`', () => {
    assert.equal(cliCommand({ PATH: '/nonexistent-a:/nonexistent-b' }), 'npx flotilla');
    assert.equal(cliCommand({}), 'npx flotilla');
    const bin = mkdtempSync(join(tmpdir(), 'flotilla-bin-'));
    try {
      writeFileSync(join(bin, 'flotilla'), '#!/bin/sh\n', { mode: 0o755 });
      assert.equal(cliCommand({ PATH: `/nonexistent-a:${bin}` }), 'flotilla');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
