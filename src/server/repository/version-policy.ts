import type { VersionPolicy } from '../../spec/index.js';

/** A version folder as the last scan saw it; the fingerprint changes when its files change. */
export interface DiskVersion {
  readonly version: number;
  readonly fingerprint: string;
}

/** What the server holds for a version right now. */
export type SlotState = 'loading' | 'ready' | 'failed' | 'unloading';

export interface CurrentVersion {
  readonly version: number;
  readonly state: SlotState;
  /** The fingerprint of the files it was loaded (or failed to load) from. */
  readonly fingerprint: string;
}

/** The transitions to make now; unloads drain first. */
export interface VersionPlan {
  readonly load: readonly number[];
  readonly unload: readonly number[];
}

/** The versions a policy asks for, out of those on disk. */
export function desiredVersions(policy: VersionPolicy, onDisk: readonly DiskVersion[]): Set<number> {
  const versions = onDisk.map((v) => v.version).sort((a, b) => b - a);
  switch (policy.kind) {
    case 'all':
      return new Set(versions);
    case 'latest':
      return new Set(versions.slice(0, policy.count));
    case 'specific':
      return new Set(versions.filter((v) => policy.versions.includes(v)));
  }
}

/**
 * The next step from a repository snapshot, TF Serving's availability-preserving policy as a
 * pure function:
 * - a desired version that is not held is loaded; one that failed is retried only when its files
 *   change;
 * - a version no longer desired is unloaded only once every desired version has settled (not
 *   loading) and one of them is ready, so a model is never left without a serving version while
 *   its replacement loads or after the replacement fails;
 * - a version whose folder is gone is unloaded once nothing desired is still loading, even when
 *   no replacement is ready (its files are gone; the user asked for it);
 * - failed versions that are no longer desired are dropped.
 */
export function planVersions(
  policy: VersionPolicy,
  onDisk: readonly DiskVersion[],
  current: readonly CurrentVersion[],
): VersionPlan {
  const desired = desiredVersions(policy, onDisk);
  const disk = new Map(onDisk.map((v) => [v.version, v.fingerprint]));
  const held = new Map(current.map((c) => [c.version, c]));

  const load: number[] = [];
  for (const v of desired) {
    const c = held.get(v);
    if (c === undefined || (c.state === 'failed' && c.fingerprint !== disk.get(v))) load.push(v);
  }

  const desiredHeld = current.filter((c) => desired.has(c.version));
  const settling = load.length > 0 || desiredHeld.some((c) => c.state === 'loading');
  const anyReady = desiredHeld.some((c) => c.state === 'ready');

  const unload: number[] = [];
  for (const c of current) {
    if (desired.has(c.version) || c.state === 'unloading' || c.state === 'loading') continue;
    const removed = !disk.has(c.version);
    if (c.state === 'failed' || (!settling && (anyReady || removed))) unload.push(c.version);
  }
  return { load: load.sort((a, b) => a - b), unload: unload.sort((a, b) => a - b) };
}
