import type { ReplicaCost } from '../orchestrator/index.js';

/**
 * How many replicas a `flotilla scale` may pin, pure. Two bounds, both documented in docs/up.md:
 *
 * - the variant's `max` from the service file (as Knative's max-scale bounds a revision);
 * - what the machine holds: all managed replicas together at most
 *   `CAPACITY_DEFAULTS.replicasPerCore` per core, and their estimated memory (a Node process plus
 *   its model files once per instance) at most `CAPACITY_DEFAULTS.memoryShare` of the machine's.
 *   Replicas, not instances, are counted against the cores: a replica's instances default to one
 *   per core, so counting instances let a 2-core machine hold 4 replicas in all and refused the
 *   quick start's own `flotilla scale mnist stable 2` (its fleet at its maxes is 6 replicas);
 *   the outage this bound is for was 100 replicas on 2 cores (load average 143).
 */

/** The machine the replicas share. */
export interface Machine {
  readonly cores: number;
  readonly memoryBytes: number;
}

export const CAPACITY_DEFAULTS = Object.freeze({
  /** Replicas all managed variants together may run per core. */
  replicasPerCore: 4,
  /** Share of the machine's memory all replicas together may use. */
  memoryShare: 0.75,
});

/** What the other managed variants hold now. */
export interface CapacityUse {
  readonly replicas: number;
  readonly memoryBytes: number;
}

/** The answer: the most replicas allowed, and the limit behind it when that is below the ask. */
export interface ScaleLimit {
  readonly allowed: number;
  /** Why `requested` is not allowed (undefined when it is). */
  readonly reason: string | undefined;
}

const mib = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MiB`;

/**
 * The most replicas `variant` may have, given the other variants' use; `reason` names the
 * limit when `requested` is above it.
 */
export function scaleLimit(
  variant: string,
  requested: number,
  max: number,
  cost: ReplicaCost,
  others: CapacityUse,
  machine: Machine,
): ScaleLimit {
  const slots = machine.cores * CAPACITY_DEFAULTS.replicasPerCore;
  const memory = machine.memoryBytes * CAPACITY_DEFAULTS.memoryShare;
  const byCores = Math.max(0, slots - others.replicas);
  const byMemory = Math.floor(Math.max(0, memory - others.memoryBytes) / Math.max(1, cost.memoryBytes));
  const allowed = Math.max(0, Math.min(max, byCores, byMemory));
  if (requested <= allowed) return { allowed, reason: undefined };
  const limits: string[] = [];
  if (requested > max) limits.push(`the variant's max is ${max} (scale.max in the service file)`);
  if (requested > byCores)
    limits.push(
      `this machine holds ${byCores}: ${machine.cores} cores x ${CAPACITY_DEFAULTS.replicasPerCore} = ${slots} replicas, ${others.replicas} used by other variants`,
    );
  if (requested > byMemory)
    limits.push(
      `memory holds ${byMemory}: ${mib(memory)} (${CAPACITY_DEFAULTS.memoryShare * 100}% of ${mib(machine.memoryBytes)}), ${mib(others.memoryBytes)} used by other variants, about ${mib(cost.memoryBytes)} per replica`,
    );
  return { allowed, reason: `${variant}: ${requested} replicas is above the limit: ${limits.join('; ')}` };
}
