/**
 * Randomness as a dependency, so traffic splits, balancer choices, load schedules and random
 * payloads are tested and reproduced with seeded generators.
 */
export interface Random {
  /** A uniform float in [0, 1). */
  next(): number;
}

/** `Math.random` behind the Random interface: what production code runs with. */
export const systemRandom: Random = { next: Math.random };

/**
 * mulberry32: 32 bits of state, fully determined by `seed`, period 2^32; fast and good enough for
 * simulations, inter-arrival times and random tensors (not for anything secret).
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
