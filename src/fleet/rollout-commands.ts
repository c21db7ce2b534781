import { type Clock, InvalidRequestError } from '../core/index.js';
import type { GatewayState } from '../gateway/index.js';
import type { ServiceSpec } from '../spec/index.js';
import type { DecisionRecorder } from './event-log.js';
import { type CanaryReading, ServiceRollout } from './service-rollout.js';
import type { RolloutAction, RolloutStatus } from './status.js';
import type { VariantControl, VariantLoad } from './variant-control.js';

/** What rollouts need of the gateway. */
export interface RolloutGateway {
  setWeights(service: string, weights: Readonly<Record<string, number>>, by: 'fleet'): void;
  state(): GatewayState;
}

export interface RolloutCommandsDeps {
  readonly gateway: RolloutGateway;
  readonly clock: Clock;
  readonly recorder: DecisionRecorder;
  /** A variant's traffic counters (the canary's, for its judgement). */
  readonly load: (service: string, tag: string) => VariantLoad;
  /** A managed variant's controls; undefined for static endpoints. */
  readonly variant: (service: string, tag: string) => VariantControl | undefined;
  /** How long promote/rollback wait for the variant taking the traffic to have a ready replica. */
  readonly switchTimeoutMs: number;
}

/**
 * The canaries of every service with two variants: progressive steps on each tick, and the
 * commands `flotilla rollout start|promote|rollback` and a weight change by hand. A finished
 * switch drains the variant left without traffic to zero.
 */
export class RolloutCommands {
  private readonly rollouts = new Map<string, ServiceRollout>();

  constructor(private readonly deps: RolloutCommandsDeps) {}

  /** Sets up the service's canary (when it has two variants); starts its progressive rollout. */
  add(s: ServiceSpec): void {
    if (s.variants.length !== 2) return;
    const canary = s.variants.find((v) => v.tag === 'canary') ?? s.variants[1]!;
    const stable = s.variants.find((v) => v !== canary)!;
    const total = stable.weight + canary.weight;
    const share = total > 0 ? Math.round((canary.weight / total) * 100) : 0;
    const config = s.rollout && s.slo ? { ...s.rollout, slo: s.slo } : undefined;
    const r = new ServiceRollout(stable.tag, canary.tag, config, share);
    this.rollouts.set(s.name, r);
    if (!config) return;
    const w = r.start(this.deps.clock.now(), this.reading(s.name, canary.tag));
    this.applyWeights(s.name, r, w);
    this.deps.recorder.record(
      'rollout',
      s.name,
      canary.tag,
      `progressive rollout started: canary at ${w}%, steps ${config.steps.join(', ')} every ${config.intervalMs / 1000}s, at least ${config.minRequests} canary requests a step, within p99 ${config.slo.latencyMs} ms and errors ${config.slo.errorRate * 100}%`,
    );
  }

  /** Shortest decision interval the rollouts need (a rollout decides at least four times a step). */
  tickHintsMs(): number[] {
    return [...this.rollouts.values()].flatMap((r) => (r.config ? [(r.config.intervalMs / 4) * 30] : []));
  }

  /** One decision per progressing rollout. */
  tick(now: number): void {
    for (const [service, r] of this.rollouts) {
      const decision = r.tick(now, this.reading(service, r.canary));
      if (!decision || decision.action === 'hold') continue;
      this.applyWeights(service, r, decision.canaryWeight);
      this.deps.recorder.record('rollout', service, r.canary, `${decision.action}: ${decision.reason}`);
      if (decision.action === 'promote') this.retireOld(service, r.stable);
    }
  }

  status(service: string): RolloutStatus | undefined {
    return this.rollouts.get(service)?.status();
  }

  /** A weight change through the admin API ends any progressive rollout of the service. */
  weightsSet(service: string): void {
    const r = this.rollouts.get(service);
    if (!r) return;
    const w = this.canaryShare(service, r);
    r.settle('manual', w, `weights set by hand: canary ${w}%`);
    this.deps.recorder.record(
      'rollout',
      service,
      r.canary,
      `weights set by hand: ${w}% to the canary (${r.canary})`,
    );
  }

  /** `flotilla rollout SERVICE start|promote|rollback`; `known` checks the service exists. */
  async run(service: string, action: RolloutAction, known: () => void): Promise<void> {
    const r = this.rollouts.get(service);
    if (!r) {
      known();
      throw new InvalidRequestError(
        'FLT_INVALID_FIELD',
        `action: service ${service} has no canary: a rollout needs two variants (stable and canary)`,
      );
    }
    const now = this.deps.clock.now();
    const record = (message: string): void =>
      this.deps.recorder.record('rollout', service, r.canary, message);
    if (action === 'start') {
      if (!r.config)
        throw new InvalidRequestError(
          'FLT_INVALID_FIELD',
          `action: service ${service} has no rollout: { steps, interval } section to step through`,
        );
      const w = r.start(now, this.reading(service, r.canary));
      this.deps.variant(service, r.stable)?.unpin(now, true);
      this.applyWeights(service, r, w);
      record(`started: canary at ${w}% (steps ${r.config.steps.join(', ')})`);
    } else if (action === 'promote') {
      // Blue/green: the new variant is up before it takes the traffic; the old one drains after.
      await this.readyFor(service, r.canary);
      r.settle('promoted', 100, 'promoted by hand');
      this.applyWeights(service, r, 100);
      record(`promoted: all traffic to ${r.canary}; draining ${r.stable}`);
      this.retireOld(service, r.stable);
    } else {
      this.deps.variant(service, r.stable)?.unpin(now, true);
      await this.readyFor(service, r.stable);
      r.settle('rolled-back', 0, 'rolled back by hand');
      this.applyWeights(service, r, 0);
      record(`rolled back: all traffic to ${r.stable}`);
    }
  }

  /** Waits until a variant can take traffic (starting one replica if it has none). */
  private async readyFor(service: string, tag: string): Promise<void> {
    const v = this.deps.variant(service, tag);
    if (!v || v.readyCount > 0) return;
    const now = this.deps.clock.now();
    if (v.scaling.desired === 0) {
      v.unpin(now, false);
      if (v.wake(now))
        this.deps.recorder.record('scale', service, tag, 'starting a replica to take the traffic -> 1');
    }
    await v.waitReady(this.deps.switchTimeoutMs);
  }

  /** The old variant of a finished switch drains: pinned to zero replicas (a rollback unpins it). */
  private retireOld(service: string, tag: string): void {
    const v = this.deps.variant(service, tag);
    if (!v) return;
    v.pin(0, this.deps.clock.now());
    this.deps.recorder.record('scale', service, tag, 'no traffic after the switch: draining to 0');
  }

  private applyWeights(service: string, r: ServiceRollout, canaryWeight: number): void {
    this.deps.gateway.setWeights(
      service,
      { [r.stable]: 100 - canaryWeight, [r.canary]: canaryWeight },
      'fleet',
    );
  }

  private canaryShare(service: string, r: ServiceRollout): number {
    const s = this.deps.gateway.state().services.find((x) => x.name === service);
    const w = (tag: string): number => s?.variants.find((v) => v.tag === tag)?.weight ?? 0;
    const total = w(r.stable) + w(r.canary);
    return total > 0 ? Math.round((w(r.canary) / total) * 100) : 0;
  }

  private reading(service: string, tag: string): CanaryReading {
    const v = this.deps.load(service, tag);
    return {
      requests: v.requests,
      errors: v.errors,
      p99Since: (since) => v.latencies.quantileSince(since, 0.99),
    };
  }
}
