import type { OutlierDetectionSpec } from '../spec/index.js';
import type { Outcome } from './balancer.js';

/** One replica's passive-health record. */
interface OutlierRecord {
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  /** Ejections so far (the multiplier of the base ejection time), decaying while healthy. */
  ejections: number;
  /** When the current ejection ends; 0 while not ejected. */
  ejectedUntil: number;
  /** When the last ejection ended (for the multiplier's decay). */
  returnedAt: number;
}

/** Why a replica was ejected. */
export type EjectionReason = 'consecutive_5xx' | 'consecutive_gateway_errors';

/** An ejection decided by `observe`. */
export interface Ejection {
  readonly reason: EjectionReason;
  readonly untilMs: number;
  readonly durationMs: number;
}

/**
 * Envoy's outlier detection, as a pure state machine over outcomes and `now`: a replica answering
 * `consecutive5xx` 5xx in a row, or failing `consecutiveGatewayErrors` times in a row to connect or
 * answer in time, is ejected for base ejection time × ejections (capped), unless that would eject
 * more than `maxEjectionPercent` of the replicas. The driver owns the timer that calls `release`.
 */
export class OutlierDetector {
  private readonly records = new Map<string, OutlierRecord>();
  private ejectedCount = 0;

  constructor(private readonly spec: OutlierDetectionSpec) {}

  /** Records a try's outcome; returns the ejection it causes now, if any. */
  observe(id: string, outcome: Outcome, now: number, replicaCount: number): Ejection | undefined {
    const r = this.record(id);
    let reason: EjectionReason | undefined;
    if (outcome.kind === 'response') {
      r.consecutiveGatewayErrors = 0;
      if (outcome.status >= 500) {
        if (++r.consecutive5xx >= this.spec.consecutive5xx) reason = 'consecutive_5xx';
      } else r.consecutive5xx = 0;
    } else if (outcome.kind !== 'cancelled') {
      if (++r.consecutiveGatewayErrors >= this.spec.consecutiveGatewayErrors)
        reason = 'consecutive_gateway_errors';
    }
    if (reason === undefined || r.ejectedUntil > 0) return undefined;
    // At least one replica of two or more may go; never the last one standing.
    const allowed =
      replicaCount < 2 ? 0 : Math.max(1, Math.floor((replicaCount * this.spec.maxEjectionPercent) / 100));
    if (this.ejectedCount + 1 > allowed) return undefined;
    if (r.returnedAt > 0) {
      const decay = Math.floor((now - r.returnedAt) / this.spec.baseEjectionTimeMs);
      r.ejections = Math.max(0, r.ejections - decay);
    }
    r.ejections++;
    const durationMs = Math.min(this.spec.baseEjectionTimeMs * r.ejections, this.spec.maxEjectionTimeMs);
    r.ejectedUntil = now + durationMs;
    r.consecutive5xx = 0;
    r.consecutiveGatewayErrors = 0;
    this.ejectedCount++;
    return { reason, untilMs: r.ejectedUntil, durationMs };
  }

  /** Whether a replica is ejected. */
  isEjected(id: string): boolean {
    return (this.records.get(id)?.ejectedUntil ?? 0) > 0;
  }

  /** Ends every ejection due by `now`; returns the ids that came back. */
  release(now: number): string[] {
    const back: string[] = [];
    for (const [id, r] of this.records) {
      if (r.ejectedUntil > 0 && r.ejectedUntil <= now) {
        r.ejectedUntil = 0;
        r.returnedAt = now;
        this.ejectedCount--;
        back.push(id);
      }
    }
    return back;
  }

  /** When the next ejection ends, if any replica is ejected. */
  nextRelease(): number | undefined {
    let next: number | undefined;
    for (const r of this.records.values())
      if (r.ejectedUntil > 0 && (next === undefined || r.ejectedUntil < next)) next = r.ejectedUntil;
    return next;
  }

  /** Forgets a replica that left the set. */
  remove(id: string): void {
    if (this.isEjected(id)) this.ejectedCount--;
    this.records.delete(id);
  }

  /** Ejections so far of a replica (for the admin API). */
  ejections(id: string): number {
    return this.records.get(id)?.ejections ?? 0;
  }

  private record(id: string): OutlierRecord {
    let r = this.records.get(id);
    if (!r) {
      r = { consecutive5xx: 0, consecutiveGatewayErrors: 0, ejections: 0, ejectedUntil: 0, returnedAt: 0 };
      this.records.set(id, r);
    }
    return r;
  }
}
