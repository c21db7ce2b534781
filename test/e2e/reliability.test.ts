/**
 * The reliability suite's short form (bench/reliability, `--short` sizes): every probe of issue 19
 * against real `flotilla serve` / `gateway` / `up` processes, each asserted to hold its bound
 * (bench/reliability/bounds.ts). On the code before the hardening work most probes did not hold
 * (bench/results/reliability-before.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROBES, SCALES } from '../../bench/reliability/index.js';

describe('reliability suite (short form)', () => {
  for (const [name, probe] of Object.entries(PROBES)) {
    it(`${name} holds its bound`, { timeout: 120_000 }, async (t) => {
      const rows = await probe({ scale: SCALES.short, short: true, seed: 19 });
      for (const r of rows) {
        t.diagnostic(
          `${r.probe}: sent ${r.sent}, failed ${r.failed}, wrong ${r.wrong}, peak RSS ${r.peakRssMb} MB, health ${r.maxEventLoopDelayMs} ms; ${r.detail}`,
        );
        assert.ok(r.held, `${r.probe} did not hold: ${r.bound}\n${r.detail}`);
      }
    });
  }
});
