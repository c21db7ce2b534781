import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { CLI } from '../helpers/paths.js';
import { tempRepository } from '../helpers/temp-repo.js';

const run = promisify(execFile);

describe('flotilla tune', () => {
  it('tries every configuration under load with the real server and bench, and writes the best', async () => {
    const repo = tempRepository([], ['sum']);
    try {
      const output = join(repo.dir, 'best.yaml');
      const json = join(repo.dir, 'tune.json');
      const { stdout } = await run(process.execPath, [
        CLI,
        'tune',
        'sum',
        '--model-repository',
        repo.dir,
        '--concurrency',
        '2',
        '--duration',
        '0.5',
        '--output',
        output,
        '--json',
        json,
      ]);
      assert.match(stdout, /1 instance × 1 thread, no batching/);
      assert.match(stdout, /<- best/);
      const results = (
        JSON.parse(readFileSync(json, 'utf8')) as { results: { throughput: number; errors: number }[] }
      ).results;
      assert.ok(results.length >= 3, `one measurement per candidate: ${results.length}`);
      assert.ok(results.every((r) => r.throughput > 0 && r.errors === 0));
      const best = parse(readFileSync(output, 'utf8')) as Record<string, unknown>;
      assert.equal(best['backend'], 'js', 'the rest of the config is kept');
      assert.ok(Number(best['instances']) >= 1 && Number(best['threads']) >= 1);
      assert.equal(best['dynamic_batching'], false);
    } finally {
      repo.remove();
    }
  });

  it('fails with a clear message when nothing meets the latency threshold', async () => {
    const repo = tempRepository([], ['sum']);
    try {
      await assert.rejects(
        run(process.execPath, [
          CLI,
          'tune',
          'sum',
          '--model-repository',
          repo.dir,
          '--concurrency',
          '1',
          '--duration',
          '0.3',
          '--latency-threshold',
          '0.000001',
        ]),
        (err: { code?: number; stderr?: string }) =>
          err.code === 1 && /no configuration met p99 <= 0.000001 ms/.test(err.stderr ?? ''),
      );
    } finally {
      repo.remove();
    }
  });
});
