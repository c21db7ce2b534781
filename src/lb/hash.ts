/**
 * A fast, well-mixed 32-bit string hash (FNV-1a, then murmur3's finaliser so that keys differing
 * in one character land far apart) and the helpers rendezvous hashing needs.
 */

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units, finalised with fmix32. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** The hash of a (key, item) pair, for rendezvous scores. */
export function combineHashes(key: number, item: number): number {
  return fmix32((key ^ Math.imul(item, 0x9e3779b1)) >>> 0);
}

/** A hash as a uniform number in (0, 1), never 0 or 1, so its logarithm is finite and non-zero. */
export function unitInterval(h: number): number {
  return (h + 0.5) / 4294967296;
}

/**
 * Weighted rendezvous hashing: each item scores `weight / -ln(u)` with `u` from hash(key, item);
 * the highest score wins. An item wins with probability weight / total, and a key moves only
 * when its winner's weight changes or a better-scoring item appears.
 */
export function rendezvousPick<T>(
  items: readonly T[],
  keyHash: number,
  itemHash: (item: T) => number,
  weight: (item: T) => number,
): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (const item of items) {
    const w = weight(item);
    if (!(w > 0)) continue;
    const score = w / -Math.log(unitInterval(combineHashes(keyHash, itemHash(item))));
    if (score > bestScore) {
      bestScore = score;
      best = item;
    }
  }
  return best;
}
