import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_MODELS, FIXTURE_MODELS } from './paths.js';

/** A throwaway repository with copies of example models and test fixture models. */
export function tempRepository(
  examples: readonly string[] = ['mnist'],
  fixtures: readonly string[] = [],
): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-repo-'));
  for (const m of examples) cpSync(join(EXAMPLE_MODELS, m), join(dir, m), { recursive: true });
  for (const m of fixtures) cpSync(join(FIXTURE_MODELS, m), join(dir, m), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
