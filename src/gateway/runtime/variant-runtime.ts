import { ConcurrencyTracker } from '../../autoscaler/index.js';
import { type Clock, type Logger, UnavailableError } from '../../core/index.js';
import type { Balancer, Outcome, SplitVariant } from '../../lb/index.js';
import { hash32, OutlierDetector } from '../../lb/index.js';
import type { OutlierDetectionSpec, VariantSpec } from '../../spec/index.js';
import type { Activator } from '../activator/activator.js';
import { LatencyLog } from './latency-log.js';
import { type ReplicaAddress, ReplicaRuntime, replicaKey, type UpstreamOptions } from './replica-runtime.js';

/** What a variant needs from the gateway around it. */
export interface VariantDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly upstream: UpstreamOptions;
  readonly newBalancer: () => Balancer<ReplicaRuntime>;
  /** Called when a replica joins or leaves (metrics bind and unbind). */
  readonly onReplica: (variant: VariantRuntime, replica: ReplicaRuntime, joined: boolean) => void;
}

/**
 * One variant at runtime: its weight, replicas, balancer and outlier detector, and the load the
 * autoscaler reads: requests in flight and the time integral of that count, from which the average
 * concurrency over any window is Δintegral / Δt (Knative's measurement, exact rather than sampled),
 * kept by the autoscaler's own ConcurrencyTracker.
 */
export class VariantRuntime implements SplitVariant {
  readonly tag: string;
  readonly tagHash: number;
  weight: number;
  spec: VariantSpec;
  replicas: ReplicaRuntime[] = [];
  private balancer: Balancer<ReplicaRuntime>;
  private outliers: OutlierDetector | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  /** Requests in flight and their time integral (the autoscaler's measurement). */
  private readonly concurrency: ConcurrencyTracker;
  /**
   * Requests ended, and those of them that failed. Counted together at the end, so errors ÷
   * requests is a true error rate at any moment: counted at the start, requests still in flight
   * diluted it (a rollout saw a canary answering only 500 at "92.31% (12/13)").
   */
  requests = 0;
  errors = 0;
  /** Latencies of finished requests (rollouts judge a canary's p99 from them). */
  readonly latencies = new LatencyLog();
  /**
   * Holds requests while the variant's capacity is short (managed variants under `flotilla up`);
   * undefined for static endpoints, which are always "there".
   */
  activator: Activator | undefined;

  constructor(
    readonly service: string,
    spec: VariantSpec,
    outlierSpec: OutlierDetectionSpec | undefined,
    private readonly deps: VariantDeps,
  ) {
    this.tag = spec.tag;
    this.tagHash = hash32(spec.tag);
    this.spec = spec;
    this.weight = spec.weight;
    this.balancer = deps.newBalancer();
    this.outliers = outlierSpec ? new OutlierDetector(outlierSpec) : undefined;
    this.concurrency = new ConcurrencyTracker(deps.clock.now());
  }

  /** Requests in flight now. */
  get inflight(): number {
    return this.concurrency.current;
  }

  /** Applies a reloaded spec (weight, model name, balancer and outlier settings). */
  apply(spec: VariantSpec, outlierSpec: OutlierDetectionSpec | undefined, newBalancer: boolean): void {
    this.spec = spec;
    this.weight = spec.weight;
    if (newBalancer) this.balancer = this.deps.newBalancer();
    this.outliers = outlierSpec ? new OutlierDetector(outlierSpec) : undefined;
    for (const r of this.replicas) r.ejected = false;
    this.refresh();
  }

  /** The balancer (the proxy picks and reports through it). */
  get picker(): Balancer<ReplicaRuntime> {
    return this.balancer;
  }

  /**
   * The next replica to try, avoiding those already tried, or the error that says the variant has
   * none (where the activator will hold requests for a variant scaling from zero).
   */
  pickReplica(
    serviceName: string,
    attempted: ReplicaRuntime[] | undefined,
  ): ReplicaRuntime | UnavailableError {
    const r = this.balancer.pick(attempted ? { attempted } : undefined);
    return (
      r ??
      new UnavailableError('FLT_NO_REPLICA', `variant ${this.tag} of service ${serviceName} has no replica`)
    );
  }

  /**
   * Replaces the replica set, keeping the ones that stay (their pools, counts and health).
   * Resolves once the replicas that left have finished their requests in flight.
   */
  setReplicas(addresses: readonly ReplicaAddress[]): Promise<void> {
    const wanted = new Set(addresses.map(replicaKey));
    const drained = this.drainReplicas((r) => !wanted.has(replicaKey(r.address)));
    this.addReplicas(addresses);
    return drained;
  }

  /**
   * Adds the replicas at these addresses that the variant does not have yet; returns them. With
   * `awaitHealthCheck` they take no traffic until a health check passes (replicas found by DNS
   * may not be ready yet); otherwise at once.
   */
  addReplicas(
    addresses: readonly ReplicaAddress[],
    options: { awaitHealthCheck?: boolean } = {},
  ): ReplicaRuntime[] {
    const have = new Set(this.replicas.map((r) => replicaKey(r.address)));
    const added: ReplicaRuntime[] = [];
    for (const a of addresses) {
      const key = replicaKey(a);
      if (have.has(key)) continue;
      have.add(key);
      const r = new ReplicaRuntime(a, this.deps.upstream);
      if (options.awaitHealthCheck) r.awaitFirstHealthCheck();
      added.push(r);
      this.deps.onReplica(this, r, true);
    }
    if (added.length === 0) return added;
    this.replicas = [...this.replicas, ...added];
    this.refresh();
    return added;
  }

  /**
   * Drains the replicas that match: they get no new requests from now on, and the promise resolves
   * once those in flight have finished and their pools are closed.
   */
  drainReplicas(which: (replica: ReplicaRuntime) => boolean): Promise<void> {
    const leaving = this.replicas.filter(which);
    if (leaving.length === 0) return Promise.resolve();
    this.replicas = this.replicas.filter((r) => !leaving.includes(r));
    this.refresh();
    return Promise.all(leaving.map((r) => this.retire(r))).then(() => undefined);
  }

  /** Gives the balancer the replicas fit to serve; with none fit, all of them (Envoy's panic mode). */
  refresh(): void {
    const fit = this.replicas.filter((r) => r.available);
    this.balancer.update(fit.length > 0 ? fit : this.replicas);
  }

  /** Records a try's outcome for outlier detection; ejects and schedules the return when due. */
  observe(replica: ReplicaRuntime, outcome: Outcome): void {
    if (!this.outliers || replica.retired) return;
    const now = this.deps.clock.now();
    const ejection = this.outliers.observe(replica.id, outcome, now, this.replicas.length);
    if (!ejection) return;
    replica.ejected = true;
    this.deps.logger.warn('replica ejected', {
      service: this.service,
      variant: this.tag,
      replica: replica.id,
      reason: ejection.reason,
      forMs: ejection.durationMs,
    });
    this.refresh();
    this.scheduleRelease(now);
  }

  /** A request to this variant started (it counts toward the concurrency from now). */
  requestStarted(): void {
    this.concurrency.begin(this.deps.clock.now());
  }

  /** A request ended: counted, with its outcome and latency. */
  requestEnded(failed: boolean, latencyMs?: number): void {
    const now = this.deps.clock.now();
    this.concurrency.end(now);
    this.requests++;
    if (failed) this.errors++;
    if (latencyMs !== undefined) this.latencies.record(now, latencyMs);
  }

  /** When a request was last in flight: now while any is, else when the last one ended. */
  lastActiveAt(): number | undefined {
    return this.concurrency.lastActiveAt(this.deps.clock.now());
  }

  /** Σ in-flight × ms up to now. */
  concurrencyIntegral(): number {
    return this.concurrency.integral(this.deps.clock.now());
  }

  /** Ejections so far of a replica. */
  ejections(replica: ReplicaRuntime): number {
    return this.outliers?.ejections(replica.id) ?? 0;
  }

  /** Stops timers and closes every replica's pool after its requests in flight. */
  async close(): Promise<void> {
    clearTimeout(this.releaseTimer);
    await Promise.all(this.replicas.map((r) => this.retire(r)));
    this.replicas = [];
  }

  private retire(r: ReplicaRuntime): Promise<void> {
    this.outliers?.remove(r.id);
    this.deps.onReplica(this, r, false);
    return r.close();
  }

  private scheduleRelease(now: number): void {
    const next = this.outliers?.nextRelease();
    if (next === undefined) return;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(
      () => {
        const back = this.outliers?.release(this.deps.clock.now()) ?? [];
        for (const r of this.replicas) if (back.includes(r.id)) r.ejected = false;
        if (back.length > 0) this.refresh();
        this.scheduleRelease(this.deps.clock.now());
      },
      Math.max(0, next - now),
    );
    this.releaseTimer.unref();
  }
}
