import { BenchArgumentError } from '../errors.js';

/** Most load levels one sweep may hold: more is a typo (a step of 1 over a huge range), not a plan. */
export const MAX_SWEEP_LEVELS = 1000;

/** How a sweep's values must look. */
export interface SweepRules {
  /** The flag, named in errors. */
  readonly flag: string;
  /** Whole numbers only (concurrency, users). */
  readonly integer: boolean;
  /** Smallest allowed value. */
  readonly min: number;
  /** Whether `min` itself is allowed (concurrency 1 is; a rate of 0 is not). */
  readonly minInclusive: boolean;
}

/**
 * Parses perf_analyzer's `start[:end[:step]]`: `4` is one level, `1:16:2` is 1, 3, 5, …, 15
 * (additive steps; `end` is included when a step lands on it), `100:500:100` is five rates.
 * A missing step is 1. Throws a BenchArgumentError naming the flag and what is wrong.
 */
export function parseSweep(text: string, rules: SweepRules): number[] {
  const parts = text.trim().split(':');
  const bad = (why: string): BenchArgumentError =>
    new BenchArgumentError(`${rules.flag} ${JSON.stringify(text)}: ${why}`);
  if (parts.length > 3) throw bad('expected start[:end[:step]], e.g. 1:16:2');
  const [start, end, step] = parts.map((p, i) => {
    const n = p.trim() === '' ? Number.NaN : Number(p);
    const what = ['start', 'end', 'step'][i]!;
    if (!Number.isFinite(n)) throw bad(`${what} ${JSON.stringify(p)} is not a number`);
    if (rules.integer && !Number.isInteger(n)) throw bad(`${what} ${n} is not a whole number`);
    return n;
  }) as [number, number | undefined, number | undefined];
  if (rules.minInclusive ? start < rules.min : start <= rules.min)
    throw bad(`start ${start} must be ${rules.minInclusive ? 'at least' : 'above'} ${rules.min}`);
  if (end === undefined) return [start];
  if (end < start) throw bad(`end ${end} is below start ${start}`);
  const by = step ?? 1;
  if (by <= 0) throw bad(`step ${by} must be above 0`);
  const count = Math.floor((end - start) / by + 1e-9) + 1;
  if (count > MAX_SWEEP_LEVELS) throw bad(`${count} levels; at most ${MAX_SWEEP_LEVELS} (use a larger step)`);
  // Computed from the index, not by repeated addition, so 0.1 steps do not drift.
  return Array.from({ length: count }, (_, i) => Number((start + i * by).toPrecision(12)));
}
