import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/paths.js';

/**
 * Containers cannot run on this machine (docs/kubernetes.md says so): this checks only what can
 * go wrong without building, that every path the Containerfile copies from the checkout exists.
 */
describe('Containerfile', () => {
  const lines = readFileSync(`${ROOT}Containerfile`, 'utf8').split('\n');
  it('copies only files that exist in the checkout', () => {
    const copies = lines.filter((l) => /^COPY /.test(l) && !l.includes('--from='));
    assert.ok(copies.length > 0);
    for (const line of copies) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const s of sources) assert.ok(existsSync(`${ROOT}${s}`), `${line}: ${s} does not exist`);
    }
  });
  it('runs as a non-root user with flotilla as its entrypoint', () => {
    assert.ok(lines.some((l) => /^USER [1-9]/.test(l)));
    assert.ok(lines.includes('ENTRYPOINT ["flotilla"]'));
  });
});
