import type { ScaleDecision } from '../autoscaler/index.js';
import { UnavailableError } from '../core/index.js';
import type { Activator, ActivatorTimers, ReplicaAddress } from '../gateway/index.js';
import type { Orchestrator, ReplicaCost, ReplicaInfo } from '../orchestrator/index.js';
import { parseAddress } from '../spec/index.js';
import type { VariantScaling } from './variant-scaling.js';

/** What the fleet reads of one managed variant's traffic in the gateway. */
export interface VariantLoad {
  readonly weight: number;
  readonly inflight: number;
  readonly requests: number;
  readonly errors: number;
  concurrencyIntegral(): number;
  lastActiveAt(): number | undefined;
  readonly latencies: { quantileSince(since: number, q: number): number | undefined };
}

export interface VariantControlParts {
  readonly service: string;
  readonly tag: string;
  readonly scaling: VariantScaling;
  readonly activator: Activator;
  readonly load: VariantLoad;
  readonly cost: ReplicaCost;
}

export interface VariantControlDeps {
  readonly orchestrator: Orchestrator;
  readonly timers: ActivatorTimers;
  /** Seconds a refused client is told to wait. */
  readonly retryAfterS: number;
}

/**
 * One managed variant's controls: its scaling, its activator, the replicas ready to take traffic,
 * and why its replicas cannot start when they cannot. Every change goes through a method that
 * keeps the orchestrator's target and the activator's capacity in step with the desired count.
 */
export class VariantControl {
  readonly service: string;
  readonly tag: string;
  readonly key: string;
  readonly scaling: VariantScaling;
  readonly activator: Activator;
  readonly load: VariantLoad;
  readonly cost: ReplicaCost;
  private readonly ready = new Map<string, ReplicaInfo>();
  private readonly readyWaiters = new Set<() => void>();
  /** When a request woke the variant from zero (for the cold-start log). */
  private wokeAt: number | undefined;
  private failureReason: string | undefined;

  constructor(
    parts: VariantControlParts,
    private readonly deps: VariantControlDeps,
  ) {
    this.service = parts.service;
    this.tag = parts.tag;
    this.key = `${parts.service}/${parts.tag}`;
    this.scaling = parts.scaling;
    this.activator = parts.activator;
    this.load = parts.load;
    this.cost = parts.cost;
  }

  /** Replicas ready to take traffic. */
  get readyCount(): number {
    return this.ready.size;
  }

  /** Why the variant's replicas cannot start, while they cannot. */
  get failure(): string | undefined {
    return this.failureReason;
  }

  /** Makes the desired count real: the orchestrator's target and the activator's capacity. */
  apply(): void {
    this.deps.orchestrator.scale(this.key, this.scaling.desired);
    this.syncActivator();
  }

  /** One scaling decision on the variant's load; the decision when the desired count changed. */
  tick(now: number): ScaleDecision | undefined {
    const changed = this.scaling.tick(
      {
        integral: this.load.concurrencyIntegral(),
        lastActiveAt: this.load.lastActiveAt(),
        readyReplicas: this.ready.size,
        // Knative's "unreachable": a variant with no traffic share drops its scale-rate floor.
        reachable: this.load.weight > 0,
      },
      now,
    );
    if (changed) this.deps.orchestrator.scale(this.key, this.scaling.desired);
    this.syncActivator();
    return changed;
  }

  /** Pins the replica count (`flotilla scale`). */
  pin(replicas: number, now: number): void {
    this.scaling.pin(replicas, now);
    this.apply();
  }

  /** Back to the service file's bounds, keeping one replica when it is about to take traffic. */
  unpin(now: number, keepOne: boolean): void {
    if (this.scaling.unpin(now, keepOne)) this.apply();
  }

  /** A request waits and nothing runs: one replica now. False when it was already coming. */
  wake(now: number): boolean {
    if (!this.scaling.wake(now)) return false;
    this.wokeAt = now;
    this.apply();
    return true;
  }

  /** A replica became ready; returns ms since a request woke the variant, when one did. */
  replicaReady(info: ReplicaInfo, now: number): number | undefined {
    this.ready.set(info.id, info);
    this.failureReason = undefined;
    this.syncActivator();
    for (const w of [...this.readyWaiters]) w();
    const woke = this.wokeAt;
    this.wokeAt = undefined;
    return woke === undefined ? undefined : now - woke;
  }

  /** A replica left routing (draining, crashed). */
  replicaLeft(id: string): void {
    this.ready.delete(id);
    this.syncActivator();
  }

  /**
   * The variant's replicas cannot start: requests waiting for one fail now with the reason, and
   * so do new ones while no replica is ready. True when the reason is new (to report it once).
   */
  fail(reason: string): boolean {
    const fresh = this.failureReason !== reason;
    this.failureReason = reason;
    this.rejectWaiting();
    return fresh;
  }

  /** Refuses waiting requests with the failure, when the variant has one and no ready replica. */
  rejectWaiting(): void {
    if (this.failureReason === undefined || this.ready.size > 0) return;
    this.activator.rejectAll(
      new UnavailableError(
        'FLT_REPLICA_FAILED',
        `${this.key}: replicas cannot start: ${this.failureReason}`,
        {
          retryAfterS: this.deps.retryAfterS,
        },
      ),
    );
  }

  /** Resolves once a replica is ready; rejects with FLT_NO_REPLICA after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.ready.size > 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.readyWaiters.delete(done);
        cancel();
        resolve();
      };
      const cancel = this.deps.timers.after(timeoutMs, () => {
        this.readyWaiters.delete(done);
        reject(
          new UnavailableError(
            'FLT_NO_REPLICA',
            `${this.key}: no replica ready within ${timeoutMs} ms${this.failureReason ? ` (${this.failureReason})` : ''}; traffic not switched`,
          ),
        );
      });
      this.readyWaiters.add(done);
    });
  }

  /** The ready replicas' addresses, for the gateway. */
  addresses(): ReplicaAddress[] {
    const out: ReplicaAddress[] = [];
    for (const r of this.ready.values()) {
      const http = r.address !== undefined ? parseAddress(r.address) : undefined;
      if (!http) continue;
      const grpc = r.grpcAddress !== undefined ? parseAddress(r.grpcAddress) : undefined;
      out.push(grpc ? { http, grpc } : { http });
    }
    return out;
  }

  private syncActivator(): void {
    this.activator.setReadyReplicas(this.ready.size);
  }
}
