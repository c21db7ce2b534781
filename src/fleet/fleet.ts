import { isAbsolute, resolve } from 'node:path';
import {
  type Clock,
  InvalidRequestError,
  type Logger,
  NotFoundError,
  UnavailableError,
} from '../core/index.js';
import {
  Activator,
  type ActivatorTimers,
  type GatewayState,
  type ReplicaAddress,
  type VariantState,
} from '../gateway/index.js';
import type { Orchestrator, ReplicaEvent, ReplicaInfo, ReplicaTemplate } from '../orchestrator/index.js';
import { parseAddress, type ServiceFile, type ServiceSpec, type VariantSpec } from '../spec/index.js';
import { EventLog } from './event-log.js';
import { type CanaryReading, ServiceRollout } from './service-rollout.js';
import type {
  FleetEvent,
  ReplicaStatus,
  RolloutAction,
  ServiceStatus,
  StatusReport,
  VariantStatus,
} from './status.js';
import { VariantScaling } from './variant-scaling.js';

/** What the fleet reads and sets on one managed variant in the gateway. */
export interface ManagedVariant {
  readonly weight: number;
  readonly inflight: number;
  readonly requests: number;
  readonly errors: number;
  concurrencyIntegral(): number;
  lastActiveAt(): number | undefined;
  latencies: { quantileSince(since: number, q: number): number | undefined };
  activator: Activator | undefined;
}

/** The gateway as the fleet drives it. */
export interface FleetGateway {
  /** Resolves once replicas that left have finished their requests in flight. */
  setReplicas(service: string, tag: string, addresses: readonly ReplicaAddress[]): Promise<void>;
  setWeights(service: string, weights: Readonly<Record<string, number>>, by: 'fleet'): void;
  managedVariant(service: string, tag: string): ManagedVariant;
  state(): GatewayState;
}

export interface FleetOptions {
  /** Relative model repositories are resolved against this (the service file's folder). */
  readonly baseDir: string;
  readonly activator: { readonly maxQueue: number; readonly timeoutMs: number; readonly retryAfterS: number };
  /** How often the autoscaler and rollouts decide; default from the shortest stable window. */
  readonly tickMs?: number;
  /** How long promote/rollback wait for the variant taking the traffic to have a ready replica. */
  readonly switchTimeoutMs: number;
}

export const FLEET_DEFAULTS = Object.freeze({
  activator: Object.freeze({ maxQueue: 1000, timeoutMs: 60_000, retryAfterS: 1 }),
  switchTimeoutMs: 120_000,
});

export interface FleetDeps {
  readonly gateway: FleetGateway;
  readonly orchestrator: Orchestrator;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timers: ActivatorTimers;
}

/** A managed variant's controls. */
interface Managed {
  readonly service: string;
  readonly tag: string;
  readonly key: string;
  readonly scaling: VariantScaling;
  readonly activator: Activator;
  readonly handle: ManagedVariant;
  /** Ready replicas, by id. */
  readonly ready: Map<string, ReplicaInfo>;
  /** When a request woke the variant from zero (for the cold-start log). */
  wokeAt: number | undefined;
  readonly readyWaiters: (() => void)[];
}

const keyOf = (service: string, tag: string): string => `${service}/${tag}`;

/**
 * `flotilla up`'s control plane: runs managed variants' replicas through the orchestrator and
 * puts the ready ones into the gateway, gates requests with an activator per variant, scales each
 * variant with the KPA on a tick, and drives canaries (progressive, promote, rollback). Every
 * decision is logged with its numbers and kept for `flotilla status`.
 */
export class Fleet {
  private readonly managed = new Map<string, Managed>();
  private readonly rollouts = new Map<string, ServiceRollout>();
  private readonly retiring = new Map<string, Promise<void>>();
  private readonly events = new EventLog();
  private readonly services: readonly ServiceSpec[];
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    file: ServiceFile,
    private readonly options: FleetOptions,
    private readonly deps: FleetDeps,
  ) {
    this.services = file.services;
  }

  /** Starts every managed variant at its initial scale and the decision tick. */
  start(): void {
    const { gateway, orchestrator } = this.deps;
    this.unwatch = orchestrator.watch((e) => this.onReplicaEvent(e));
    for (const s of this.services) {
      for (const v of s.variants) {
        if (v.runs.kind === 'endpoints' || !v.scale) continue;
        const key = keyOf(s.name, v.tag);
        const scaling = new VariantScaling(v.scale, this.deps.clock.now());
        const activator = new Activator(
          { containerConcurrency: v.scale.containerConcurrency, ...this.options.activator },
          { timers: this.deps.timers },
        );
        const handle = gateway.managedVariant(s.name, v.tag);
        handle.activator = activator;
        const m: Managed = {
          service: s.name,
          tag: v.tag,
          key,
          scaling,
          activator,
          handle,
          ready: new Map(),
          wokeAt: undefined,
          readyWaiters: [],
        };
        activator.onDemand = () => this.wake(m);
        this.managed.set(key, m);
        orchestrator.apply(key, this.templateOf(s, v));
        activator.setReadyReplicas(0);
        orchestrator.scale(key, scaling.desired);
        this.record(
          'scale',
          s.name,
          v.tag,
          `initial scale ${scaling.desired} (min ${scaling.min}, max ${scaling.max})`,
        );
      }
      this.startRollout(s);
    }
    const windows = [
      ...[...this.managed.values()].map((m) => m.scaling.stableWindowMs),
      // A rollout decides at least four times per step.
      ...this.services.flatMap((s) => (s.rollout ? [(s.rollout.intervalMs / 4) * 30] : [])),
    ];
    const tickMs = this.options.tickMs ?? Math.min(2000, Math.max(100, Math.min(...windows, 60_000) / 30));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  /** Stops deciding and refuses requests still waiting for a replica (the gateway is draining). */
  stop(): void {
    clearInterval(this.timer);
    this.unwatch?.();
    for (const m of this.managed.values()) {
      m.activator.rejectAll(
        new UnavailableError('FLT_ACTIVATION_TIMEOUT', `${m.key}: flotilla up is stopping`, {
          retryAfterS: this.options.activator.retryAfterS,
        }),
      );
    }
  }

  /** Resolves once the gateway has no request in flight on a replica that is leaving. */
  waitIdle(replica: ReplicaInfo): Promise<void> {
    return this.retiring.get(replica.id) ?? Promise.resolve();
  }

  /** One round of decisions: every managed variant's scale, then every progressing rollout. */
  tick(): void {
    const now = this.deps.clock.now();
    for (const m of this.managed.values()) {
      const changed = m.scaling.tick(
        {
          integral: m.handle.concurrencyIntegral(),
          lastActiveAt: m.handle.lastActiveAt(),
          readyReplicas: m.ready.size,
          reachable: m.handle.weight > 0,
        },
        now,
      );
      if (changed) {
        const ready = m.ready.size;
        this.deps.orchestrator.scale(m.key, m.scaling.desired);
        this.record('scale', m.service, m.tag, changed.reason, {
          desired: m.scaling.desired,
          ready,
          panic: changed.panic,
        });
      }
      m.activator.setReadyReplicas(m.ready.size);
    }
    for (const [service, r] of this.rollouts) {
      const decision = r.tick(now, this.canaryReading(service, r.canary));
      if (!decision || decision.action === 'hold') continue;
      this.applyWeights(service, r, decision.canaryWeight);
      this.record('rollout', service, r.canary, `${decision.action}: ${decision.reason}`);
      if (decision.action === 'promote') this.retireOld(service, r.stable);
    }
  }

  /** `flotilla scale`: pins a variant to `replicas` (min = max), as `kubectl scale` would. */
  scale(service: string, tag: string, replicas: number): ServiceStatus {
    const m = this.managedOf(service, tag);
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new InvalidRequestError('FLT_INVALID_FIELD', `replicas: ${replicas} is not a whole number >= 0`);
    m.scaling.pin(replicas, this.deps.clock.now());
    this.applyScale(m);
    this.record('scale', service, tag, `pinned to ${replicas} (min = max = ${replicas}) by flotilla scale`);
    return this.serviceStatus(service);
  }

  /** A weight change through the admin API ends any progressive rollout of the service. */
  weightsSet(service: string): void {
    const r = this.rollouts.get(service);
    if (!r) return;
    const w = this.canaryShare(service, r);
    r.settle('manual', w, `weights set by hand: canary ${w}%`);
    this.record('rollout', service, r.canary, `weights set by hand: canary ${r.canary} at ${w}%`);
  }

  /** `flotilla rollout SERVICE start|promote|rollback`. */
  async rollout(service: string, action: RolloutAction): Promise<ServiceStatus> {
    const r = this.rollouts.get(service);
    if (!r) {
      this.serviceSpec(service);
      throw new InvalidRequestError(
        'FLT_INVALID_FIELD',
        `action: service ${service} has no canary: a rollout needs two variants (stable and canary)`,
      );
    }
    const now = this.deps.clock.now();
    if (action === 'start') {
      if (!r.config)
        throw new InvalidRequestError(
          'FLT_INVALID_FIELD',
          `action: service ${service} has no rollout: { steps, interval } section to step through`,
        );
      const w = r.start(now, this.canaryReading(service, r.canary));
      this.unpin(service, r.stable);
      this.applyWeights(service, r, w);
      this.record(
        'rollout',
        service,
        r.canary,
        `started: canary at ${w}% (steps ${r.config.steps.join(', ')})`,
      );
    } else if (action === 'promote') {
      // Blue/green: the new variant is up before it takes the traffic; the old one drains after.
      await this.readyFor(service, r.canary);
      r.settle('promoted', 100, 'promoted by hand');
      this.applyWeights(service, r, 100);
      this.record('rollout', service, r.canary, `promoted: all traffic to ${r.canary}; draining ${r.stable}`);
      this.retireOld(service, r.stable);
    } else {
      this.unpin(service, r.stable);
      await this.readyFor(service, r.stable);
      r.settle('rolled-back', 0, 'rolled back by hand');
      this.applyWeights(service, r, 0);
      this.record('rollout', service, r.canary, `rolled back: all traffic to ${r.stable}`);
    }
    return this.serviceStatus(service);
  }

  /** Services, variants, replicas and recent decisions, for `flotilla status`. */
  status(): StatusReport {
    const state = this.deps.gateway.state();
    return {
      atMs: Date.now(),
      services: state.services.map((s) => this.statusOf(s.name, state)),
      events: this.events.list(),
    };
  }

  private serviceStatus(service: string): ServiceStatus {
    return this.statusOf(service, this.deps.gateway.state());
  }

  private statusOf(service: string, state: GatewayState): ServiceStatus {
    const s = state.services.find((x) => x.name === service);
    if (!s) throw new NotFoundError('FLT_SERVICE_NOT_FOUND', `no service ${service}`);
    const replicas = this.deps.orchestrator.list();
    const r = this.rollouts.get(service);
    return {
      name: s.name,
      hosts: s.hosts,
      ...(s.path !== undefined ? { path: s.path } : {}),
      variants: s.variants.map((v) => this.variantStatus(service, v, replicas)),
      ...(r ? { rollout: r.status() } : {}),
    };
  }

  private variantStatus(service: string, v: VariantState, all: readonly ReplicaInfo[]): VariantStatus {
    const m = this.managed.get(keyOf(service, v.tag));
    const inflightAt = new Map(v.replicas.map((r) => [r.id, r]));
    const replicas: ReplicaStatus[] = m
      ? all
          .filter((r) => r.variant === m.key)
          .map((r) => {
            const live = r.address !== undefined ? inflightAt.get(r.address) : undefined;
            return {
              id: r.id,
              state: r.state,
              ...(r.pid !== undefined ? { pid: r.pid } : {}),
              ...(r.address !== undefined ? { address: r.address } : {}),
              ...(r.grpcAddress !== undefined ? { grpcAddress: r.grpcAddress } : {}),
              inflight: live?.active ?? 0,
              ...(live ? { healthy: live.healthy && !live.ejected } : {}),
              restarts: r.restarts,
              ...(r.readyAt !== undefined ? { startMs: Math.round(r.readyAt - r.startedAt) } : {}),
            };
          })
      : v.replicas.map((r) => ({
          id: r.id,
          state: 'static' as const,
          address: r.id,
          ...(r.grpc !== undefined ? { grpcAddress: r.grpc } : {}),
          inflight: r.active,
          healthy: r.healthy && !r.ejected,
        }));
    return {
      tag: v.tag,
      weight: v.weight,
      runs: v.runs,
      modelName: v.modelName,
      ...(v.modelVersion !== undefined ? { modelVersion: v.modelVersion } : {}),
      inflight: v.inflight,
      requests: v.requests,
      errors: v.errors,
      ...(m
        ? {
            scale: {
              desired: m.scaling.desired,
              ready: m.ready.size,
              min: m.scaling.min,
              max: m.scaling.max,
              pinned: m.scaling.pinned,
              panic: m.scaling.last?.panic ?? false,
              queued: m.activator.queued,
              ...(m.scaling.last ? { lastDecision: m.scaling.last.reason } : {}),
            },
          }
        : {}),
      replicas,
    };
  }

  private onReplicaEvent(e: ReplicaEvent): void {
    const m = this.managed.get(e.replica.variant);
    if (!m) return;
    const info = e.replica;
    switch (e.type) {
      case 'ready': {
        m.ready.set(info.id, info);
        void this.syncReplicas(m);
        m.activator.setReadyReplicas(m.ready.size);
        const startMs = Math.round((info.readyAt ?? info.startedAt) - info.startedAt);
        if (m.wokeAt !== undefined) {
          const coldStartMs = Math.round(this.deps.clock.now() - m.wokeAt);
          m.wokeAt = undefined;
          this.record(
            'replica',
            m.service,
            m.tag,
            `scaled from zero: ${info.id} ready ${coldStartMs} ms after the first request`,
            {
              coldStartMs,
            },
          );
        } else
          this.record('replica', m.service, m.tag, `${info.id} ready in ${startMs} ms at ${info.address}`);
        for (const w of m.readyWaiters.splice(0)) w();
        break;
      }
      case 'draining': {
        m.ready.delete(info.id);
        m.activator.setReadyReplicas(m.ready.size);
        const done = this.syncReplicas(m);
        this.retiring.set(info.id, done);
        void done.finally(() => this.retiring.delete(info.id));
        break;
      }
      case 'crashed':
        m.ready.delete(info.id);
        m.activator.setReadyReplicas(m.ready.size);
        void this.syncReplicas(m);
        this.record('replica', m.service, m.tag, `${info.id} crashed: ${e.detail ?? 'exited'}`);
        break;
      case 'crash-loop':
        this.record('replica', m.service, m.tag, `crash loop: ${e.detail ?? ''}`);
        break;
      case 'starting':
      case 'stopped':
        break;
    }
  }

  /** Puts the variant's ready replicas into the gateway; resolves when the ones that left are idle. */
  private syncReplicas(m: Managed): Promise<void> {
    const addresses: ReplicaAddress[] = [];
    for (const r of m.ready.values()) {
      const http = r.address !== undefined ? parseAddress(r.address) : undefined;
      if (!http) continue;
      const grpc = r.grpcAddress !== undefined ? parseAddress(r.grpcAddress) : undefined;
      addresses.push(grpc ? { http, grpc } : { http });
    }
    return this.deps.gateway.setReplicas(m.service, m.tag, addresses);
  }

  /** A request waits at a variant with nothing running: start one replica now, not at the next tick. */
  private wake(m: Managed): void {
    if (!m.scaling.wake(this.deps.clock.now())) return;
    m.wokeAt = this.deps.clock.now();
    this.applyScale(m);
    this.record('scale', m.service, m.tag, `scale from zero: a request is waiting -> ${m.scaling.desired}`);
  }

  /** Waits until a variant can take traffic (starting one replica if it has none). */
  private async readyFor(service: string, tag: string): Promise<void> {
    const m = this.managed.get(keyOf(service, tag));
    if (!m || m.ready.size > 0) return;
    if (m.scaling.desired === 0) {
      if (m.scaling.pinned) m.scaling.pin(undefined, this.deps.clock.now());
      this.wake(m);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((res) => m.readyWaiters.push(res)),
      new Promise<void>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new UnavailableError(
                'FLT_NO_REPLICA',
                `${m.key}: no replica ready within ${this.options.switchTimeoutMs} ms; traffic not switched`,
              ),
            ),
          this.options.switchTimeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** The old variant of a finished switch drains: pinned to zero replicas (a rollback unpins it). */
  private retireOld(service: string, tag: string): void {
    const m = this.managed.get(keyOf(service, tag));
    if (!m) return;
    m.scaling.pin(0, this.deps.clock.now());
    this.applyScale(m);
    this.record('scale', service, tag, 'no traffic after the switch: draining to 0');
  }

  /** Makes the desired count real: the orchestrator's target and the activator's capacity. */
  private applyScale(m: Managed): void {
    this.deps.orchestrator.scale(m.key, m.scaling.desired);
    m.activator.setReadyReplicas(m.ready.size);
  }

  private unpin(service: string, tag: string): void {
    const m = this.managed.get(keyOf(service, tag));
    if (!m?.scaling.pinned) return;
    m.scaling.pin(undefined, this.deps.clock.now());
    if (m.scaling.desired < m.scaling.min || m.scaling.desired === 0) {
      m.scaling.desired = Math.max(m.scaling.min, 1);
      this.deps.orchestrator.scale(m.key, m.scaling.desired);
    }
  }

  private startRollout(s: ServiceSpec): void {
    if (s.variants.length !== 2) return;
    const canary = s.variants.find((v) => v.tag === 'canary') ?? s.variants[1]!;
    const stable = s.variants.find((v) => v !== canary)!;
    const total = stable.weight + canary.weight;
    const share = total > 0 ? Math.round((canary.weight / total) * 100) : 0;
    const config = s.rollout && s.slo ? { ...s.rollout, slo: s.slo } : undefined;
    const r = new ServiceRollout(stable.tag, canary.tag, config, share);
    this.rollouts.set(s.name, r);
    if (config) {
      const w = r.start(this.deps.clock.now(), this.canaryReading(s.name, canary.tag));
      this.applyWeights(s.name, r, w);
      this.record(
        'rollout',
        s.name,
        canary.tag,
        `progressive rollout started: canary at ${w}%, steps ${config.steps.join(', ')} every ${config.intervalMs / 1000}s within p99 ${s.slo?.latencyMs} ms and errors ${(s.slo?.errorRate ?? 0) * 100}%`,
      );
    }
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

  private canaryReading(service: string, tag: string): CanaryReading {
    const v = this.deps.gateway.managedVariant(service, tag);
    return {
      requests: v.requests,
      errors: v.errors,
      p99Since: (since) => v.latencies.quantileSince(since, 0.99),
    };
  }

  private managedOf(service: string, tag: string): Managed {
    const s = this.serviceSpec(service);
    const v = s.variants.find((x) => x.tag === tag);
    if (!v)
      throw new NotFoundError(
        'FLT_VARIANT_NOT_FOUND',
        `service ${service} has no variant ${tag}; variants: ${s.variants.map((x) => x.tag).join(', ')}`,
      );
    const m = this.managed.get(keyOf(service, tag));
    if (!m)
      throw new InvalidRequestError(
        'FLT_INVALID_FIELD',
        `${service}/${tag} runs static endpoints, which do not scale: give it model: or command: to run replicas`,
      );
    return m;
  }

  private serviceSpec(service: string): ServiceSpec {
    const s = this.services.find((x) => x.name === service);
    if (!s)
      throw new NotFoundError(
        'FLT_SERVICE_NOT_FOUND',
        `no service ${service}; known services: ${this.services.map((x) => x.name).join(', ')}`,
      );
    return s;
  }

  private templateOf(s: ServiceSpec, v: VariantSpec): ReplicaTemplate {
    const runs = v.runs;
    if (runs.kind === 'model') {
      const repository = isAbsolute(runs.repository)
        ? runs.repository
        : resolve(this.options.baseDir, runs.repository);
      return {
        kind: 'model',
        repository,
        model: runs.name,
        ...(runs.version !== undefined ? { version: runs.version } : {}),
        ...(runs.with ? { with: runs.with } : {}),
      };
    }
    if (runs.kind === 'command') {
      return { kind: 'command', command: runs.command, readinessPath: s.healthCheck?.path ?? '/' };
    }
    throw new Error(`${s.name}/${v.tag}: static endpoints have no replicas to run`);
  }

  private record(
    kind: FleetEvent['kind'],
    service: string,
    variant: string | undefined,
    message: string,
    numbers: Readonly<Record<string, number | boolean>> = {},
  ): void {
    this.events.push({
      atMs: Date.now(),
      kind,
      service,
      ...(variant !== undefined ? { variant } : {}),
      message,
    });
    this.deps.logger.info(kind === 'replica' ? 'replica' : `${kind} decision`, {
      service,
      ...(variant !== undefined ? { variant } : {}),
      ...numbers,
      decision: message,
    });
  }
}
