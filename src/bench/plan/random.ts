/** A source of uniform numbers in [0, 1), injected so schedules and payloads are reproducible. */
export interface Random {
  next(): number;
}

/**
 * A seeded generator (mulberry32: 32-bit state, period 2^32, fast and good enough for inter-arrival
 * times and random tensors; not for anything secret).
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
