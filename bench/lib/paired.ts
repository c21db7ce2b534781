/** The middle value (upper middle for an even count) of some measurements. */
export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One row of a paired comparison: both sides' medians, and the median and range of their ratios. */
export interface PairedRow {
  readonly basePerS: number;
  readonly otherPerS: number;
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
}

/**
 * Measures `base` then `other`, back to back, `rounds` times (alternating paired rounds: a round's
 * two sides share the machine's state), and reports other / base per round as median and range.
 */
export async function pairedRounds<S>(
  measure: (side: S) => Promise<number>,
  base: S,
  other: S,
  rounds: number,
): Promise<PairedRow> {
  const b: number[] = [];
  const o: number[] = [];
  for (let i = 0; i < rounds; i++) {
    b.push(await measure(base));
    o.push(await measure(other));
  }
  const ratios = b.map((v, i) => o[i]! / v);
  return {
    basePerS: Math.round(median(b)),
    otherPerS: Math.round(median(o)),
    ratio: Number(median(ratios).toFixed(3)),
    ratioMin: Number(Math.min(...ratios).toFixed(3)),
    ratioMax: Number(Math.max(...ratios).toFixed(3)),
  };
}
