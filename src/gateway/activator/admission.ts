import { asFlotillaError, type FlotillaError } from '../../core/index.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';
import type { Release } from './activator.js';

/**
 * Lets a call through its variant's activator: `go` runs at once when the variant has no
 * activator or has capacity (the common case: no promise, no allocation beyond the release), or
 * later once capacity appears; `refuse` gets the 503 when the queue is full or the wait times out.
 * `go` receives the release to call when the request ends (undefined without an activator).
 */
export function admit(
  variant: VariantRuntime,
  label: string,
  go: (release: Release | undefined) => void,
  refuse: (err: FlotillaError) => void,
): void {
  const activator = variant.activator;
  if (!activator) {
    go(undefined);
    return;
  }
  const admitted = activator.admit(label);
  if (typeof admitted === 'function') go(admitted);
  else admitted.then(go, (err: unknown) => refuse(asFlotillaError(err)));
}
