import type { Random } from '../core/index.js';
import { rendezvousPick } from './hash.js';

/** What the split needs of a variant: its tag, the tag's hash and its weight. */
export interface SplitVariant {
  readonly tag: string;
  readonly tagHash: number;
  readonly weight: number;
}

/** How a variant was chosen (logged and counted). */
export type SplitReason = 'forced' | 'sticky' | 'weighted';

/** The variant a request goes to, or `unknown-tag` when a forced tag names no variant. */
export type SplitDecision<V> =
  | { readonly kind: 'variant'; readonly variant: V; readonly reason: SplitReason }
  | { readonly kind: 'unknown-tag'; readonly tag: string }
  | { readonly kind: 'no-weight' };

/** The request's say in the split: a forced tag (`x-flotilla-variant`) and a sticky key's hash. */
export interface SplitRequest {
  readonly forcedTag?: string | undefined;
  readonly keyHash?: number | undefined;
}

/** Weighted random choice: a variant wins with probability weight / total (weights >= 0). */
export function pickWeighted<V extends { readonly weight: number }>(
  variants: readonly V[],
  random: Random,
): V | undefined {
  let total = 0;
  for (const v of variants) total += v.weight;
  if (!(total > 0)) return undefined;
  let r = random.next() * total;
  let last: V | undefined;
  for (const v of variants) {
    if (v.weight <= 0) continue;
    last = v;
    r -= v.weight;
    if (r < 0) return v;
  }
  // Float rounding can leave r a hair above zero after the last positive weight.
  return last;
}

/**
 * Chooses a variant: a forced tag wins (even at weight 0, so a canary can be tried before it
 * takes traffic); a sticky key maps to the same variant while the weights are unchanged; otherwise
 * weighted random. Pure: randomness is injected.
 */
export function splitTraffic<V extends SplitVariant>(
  variants: readonly V[],
  request: SplitRequest,
  random: Random,
): SplitDecision<V> {
  if (request.forcedTag !== undefined) {
    const v = variants.find((x) => x.tag === request.forcedTag);
    return v
      ? { kind: 'variant', variant: v, reason: 'forced' }
      : { kind: 'unknown-tag', tag: request.forcedTag };
  }
  if (request.keyHash !== undefined) {
    const v = rendezvousPick(
      variants,
      request.keyHash,
      (x) => x.tagHash,
      (x) => x.weight,
    );
    return v ? { kind: 'variant', variant: v, reason: 'sticky' } : { kind: 'no-weight' };
  }
  const v = pickWeighted(variants, random);
  return v ? { kind: 'variant', variant: v, reason: 'weighted' } : { kind: 'no-weight' };
}

/** Whether this request is copied to the mirror variant: a `percent` share of requests. */
export function shouldMirror(percent: number, random: Random): boolean {
  return percent > 0 && random.next() * 100 < percent;
}

/**
 * Validates runtime weights (admin API): every tag known, each weight finite and >= 0, at least
 * one positive. Returns the message of the first rule broken, or undefined.
 */
export function checkWeights(
  tags: readonly string[],
  weights: ReadonlyMap<string, number>,
): string | undefined {
  for (const [tag, w] of weights) {
    if (!tags.includes(tag)) return `no variant tagged ${tag}; tags: ${tags.join(', ')}`;
    if (!Number.isFinite(w) || w < 0) return `weight of ${tag}: ${w} is not a number >= 0`;
  }
  const missing = tags.filter((t) => !weights.has(t));
  if (missing.length > 0) return `no weight for ${missing.join(', ')}: give one weight per variant`;
  if (![...weights.values()].some((w) => w > 0))
    return 'the weights add up to 0: at least one must be positive';
  return undefined;
}
