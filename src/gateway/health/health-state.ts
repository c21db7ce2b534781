import type { HealthCheckSpec } from '../../spec/index.js';

/** A replica's active health as the checks see it. */
export interface HealthRecord {
  healthy: boolean;
  consecutiveOk: number;
  consecutiveFailed: number;
  /** The last check's failure, for the admin API. */
  lastError: string | undefined;
}

/** A record for a new replica: healthy until checks say otherwise (it joined because it was ready). */
export function newHealthRecord(): HealthRecord {
  return { healthy: true, consecutiveOk: 0, consecutiveFailed: 0, lastError: undefined };
}

/**
 * Applies one check result (Envoy's thresholds): `unhealthyThreshold` failures in a row turn a
 * healthy replica unhealthy, `healthyThreshold` successes in a row turn it back. Returns true
 * when the state flipped.
 */
export function applyCheck(
  r: HealthRecord,
  ok: boolean,
  spec: Pick<HealthCheckSpec, 'healthyThreshold' | 'unhealthyThreshold'>,
  error?: string,
): boolean {
  if (ok) {
    r.consecutiveOk++;
    r.consecutiveFailed = 0;
    r.lastError = undefined;
    if (!r.healthy && r.consecutiveOk >= spec.healthyThreshold) {
      r.healthy = true;
      return true;
    }
    return false;
  }
  r.consecutiveFailed++;
  r.consecutiveOk = 0;
  r.lastError = error;
  if (r.healthy && r.consecutiveFailed >= spec.unhealthyThreshold) {
    r.healthy = false;
    return true;
  }
  return false;
}
