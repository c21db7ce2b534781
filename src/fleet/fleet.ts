import { isAbsolute, resolve } from 'node:path';
import {
  type Clock,
  ConflictError,
  InvalidRequestError,
  type Logger,
  NotFoundError,
  UnavailableError,
} from '../core/index.js';
import { Activator, type ActivatorTimers, type GatewayState, type ReplicaAddress } from '../gateway/index.js';
import {
  type Orchestrator,
  REPLICA_COST_DEFAULTS,
  type ReplicaCost,
  type ReplicaEvent,
  type ReplicaInfo,
  type ReplicaTemplate,
} from '../orchestrator/index.js';
import type { ServiceFile, ServiceSpec, VariantSpec } from '../spec/index.js';
import { type Machine, scaleLimit } from './capacity.js';
import { DecisionRecorder } from './event-log.js';
import { RolloutCommands } from './rollout-commands.js';
import type { RolloutAction, ScaleAnswer, ServiceStatus, StatusReport } from './status.js';
import { serviceStatus } from './status-projection.js';
import { VariantControl, type VariantLoad } from './variant-control.js';
import { VariantScaling } from './variant-scaling.js';

/** What the fleet reads and sets on one managed variant in the gateway. */
export interface ManagedVariant extends VariantLoad {
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
  /** The machine the replicas share: `flotilla scale` refuses what it cannot hold. */
  readonly machine: Machine;
}

export const FLEET_DEFAULTS = Object.freeze({
  activator: Object.freeze({ maxQueue: 1000, timeoutMs: 60_000, retryAfterS: 1 }),
  switchTimeoutMs: 120_000,
});

/** Timers as a dependency: the fleet runs on fake time in unit tests. */
export interface FleetTimers extends ActivatorTimers {
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export interface FleetDeps {
  readonly gateway: FleetGateway;
  readonly orchestrator: Orchestrator;
  /** Monotonic time (ms) for every decision. */
  readonly clock: Clock;
  /** Wall-clock time (ms since the epoch) for the status report and its events. */
  readonly wallClock: Clock;
  readonly logger: Logger;
  readonly timers: FleetTimers;
  /** What one replica of a template costs the machine (default: one instance, a bare server's memory). */
  readonly replicaCost?: (template: ReplicaTemplate) => ReplicaCost;
}

/**
 * `flotilla up`'s control plane: runs managed variants' replicas through the orchestrator and
 * puts the ready ones into the gateway, gates requests with an activator per variant, scales each
 * variant with the KPA on a tick (`VariantControl`), and drives canaries (`RolloutCommands`).
 * Every decision is logged with its numbers and kept for `flotilla status` (`serviceStatus`).
 * Time and timers come in through its deps: nothing here reads the clock itself.
 */
export class Fleet {
  private readonly variants = new Map<string, VariantControl>();
  private readonly rollouts: RolloutCommands;
  private readonly retiring = new Map<string, Promise<void>>();
  private readonly recorder: DecisionRecorder;
  private readonly services: readonly ServiceSpec[];
  private cancelTick: (() => void) | undefined;
  private unwatch: (() => void) | undefined;
  private stopped = false;

  constructor(
    file: ServiceFile,
    private readonly options: FleetOptions,
    private readonly deps: FleetDeps,
  ) {
    this.services = file.services;
    this.recorder = new DecisionRecorder({ logger: deps.logger, wallClock: deps.wallClock });
    this.rollouts = new RolloutCommands({
      gateway: deps.gateway,
      clock: deps.clock,
      recorder: this.recorder,
      load: (service, tag) => deps.gateway.managedVariant(service, tag),
      variant: (service, tag) => this.variants.get(keyOf(service, tag)),
      switchTimeoutMs: options.switchTimeoutMs,
    });
  }

  /** Starts every managed variant at its initial scale and the decision tick. */
  start(): void {
    const { gateway, orchestrator } = this.deps;
    this.unwatch = orchestrator.watch((e) => this.onReplicaEvent(e));
    const now = this.deps.clock.now();
    for (const s of this.services) {
      for (const v of s.variants) {
        if (v.runs.kind === 'endpoints' || !v.scale) continue;
        const template = this.templateOf(s, v);
        const activator = new Activator(
          { containerConcurrency: v.scale.containerConcurrency, ...this.options.activator },
          { timers: this.deps.timers },
        );
        const handle = gateway.managedVariant(s.name, v.tag);
        handle.activator = activator;
        const control = new VariantControl(
          {
            service: s.name,
            tag: v.tag,
            scaling: new VariantScaling(v.scale, now),
            activator,
            load: handle,
            cost: this.deps.replicaCost?.(template) ?? {
              instances: 1,
              memoryBytes: REPLICA_COST_DEFAULTS.baseMemoryBytes,
            },
          },
          {
            orchestrator,
            timers: this.deps.timers,
            retryAfterS: this.options.activator.retryAfterS,
          },
        );
        activator.onDemand = () => this.onDemand(control);
        this.variants.set(control.key, control);
        orchestrator.apply(control.key, template);
        control.apply();
        const { scaling } = control;
        this.recorder.record(
          'scale',
          s.name,
          v.tag,
          `initial scale ${scaling.desired} (min ${scaling.min}, max ${scaling.max})`,
        );
      }
      this.rollouts.add(s);
    }
    const windows = [
      ...[...this.variants.values()].map((m) => m.scaling.stableWindowMs / 30),
      ...this.rollouts.tickHintsMs().map((ms) => ms / 30),
    ];
    const tickMs = this.options.tickMs ?? Math.min(2000, Math.max(100, Math.min(...windows, 2000)));
    this.cancelTick = this.deps.timers.every(tickMs, () => this.tick());
  }

  /**
   * Stops every decision at once: no more ticks, no replica event acted on, no scale from zero;
   * requests still waiting for a replica are refused (the gateway is draining).
   */
  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
    this.cancelTick = undefined;
    this.unwatch?.();
    for (const m of this.variants.values()) {
      m.activator.onDemand = undefined;
      m.activator.rejectAll(
        new UnavailableError('FLT_SHUTTING_DOWN', `${m.key}: flotilla up is stopping`, {
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
    if (this.stopped) return;
    const now = this.deps.clock.now();
    for (const m of this.variants.values()) {
      const changed = m.tick(now);
      if (changed)
        this.recorder.record('scale', m.service, m.tag, changed.reason, {
          desired: m.scaling.desired,
          ready: m.readyCount,
          panic: changed.panic,
        });
    }
    this.rollouts.tick(now);
  }

  /**
   * `flotilla scale`: pins a variant to `replicas` (min = max), as `kubectl scale` would. Above the
   * variant's max or what the machine holds it is refused (FLT_SCALE_LIMIT) unless `force`, which
   * pins the most allowed instead; the answer says what was applied. Returns before any replica
   * starts: the orchestrator starts them in the background.
   */
  scale(service: string, tag: string, replicas: number, force = false): ScaleAnswer {
    const m = this.controlOf(service, tag);
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new InvalidRequestError('FLT_INVALID_FIELD', `replicas: ${replicas} is not a whole number >= 0`);
    const others = { replicas: 0, memoryBytes: 0 };
    for (const o of this.variants.values()) {
      if (o === m) continue;
      others.replicas += o.scaling.desired;
      others.memoryBytes += o.scaling.desired * o.cost.memoryBytes;
    }
    const limit = scaleLimit(m.key, replicas, m.scaling.spec.max, m.cost, others, this.options.machine);
    if (limit.reason !== undefined && !force)
      throw new ConflictError(
        'FLT_SCALE_LIMIT',
        `${limit.reason}. Nothing was changed; the most allowed is ${limit.allowed} (flotilla scale --force pins that)`,
      );
    const applied = Math.min(replicas, limit.allowed);
    m.pin(applied, this.deps.clock.now());
    this.recorder.record(
      'scale',
      service,
      tag,
      limit.reason === undefined
        ? `pinned to ${applied} (min = max = ${applied}) by flotilla scale`
        : `pinned to ${applied} (asked ${replicas}, capped by --force: ${limit.reason})`,
    );
    return {
      ...this.serviceStatus(service),
      scaled: {
        requested: replicas,
        applied,
        ...(limit.reason !== undefined ? { capped: limit.reason } : {}),
      },
    };
  }

  /** A weight change through the admin API ends any progressive rollout of the service. */
  weightsSet(service: string): void {
    this.rollouts.weightsSet(service);
  }

  /** `flotilla rollout SERVICE start|promote|rollback`. */
  async rollout(service: string, action: RolloutAction): Promise<ServiceStatus> {
    await this.rollouts.run(service, action, () => this.serviceSpec(service));
    return this.serviceStatus(service);
  }

  /** Services, variants, replicas and recent decisions, for `flotilla status`. */
  status(): StatusReport {
    const state = this.deps.gateway.state();
    const replicas = this.deps.orchestrator.list();
    return {
      atMs: this.deps.wallClock.now(),
      services: state.services.map((s) => serviceStatus(s.name, this.sources(state, replicas))),
      events: this.recorder.list(),
    };
  }

  private serviceStatus(service: string): ServiceStatus {
    return serviceStatus(service, this.sources(this.deps.gateway.state(), this.deps.orchestrator.list()));
  }

  private sources(state: GatewayState, replicas: readonly ReplicaInfo[]) {
    return {
      state,
      replicas,
      variant: (service: string, tag: string) => this.variants.get(keyOf(service, tag)),
      rollout: (service: string) => this.rollouts.status(service),
    };
  }

  private onReplicaEvent(e: ReplicaEvent): void {
    const m = this.variants.get(e.replica.variant);
    // Once stopped only a replica leaving matters: its requests in flight must finish first.
    if (!m || (this.stopped && e.type !== 'draining')) return;
    const info = e.replica;
    const record = (message: string, numbers?: Readonly<Record<string, number>>): void =>
      this.recorder.record('replica', m.service, m.tag, message, numbers);
    switch (e.type) {
      case 'ready': {
        const coldStartMs = m.replicaReady(info, this.deps.clock.now());
        void this.syncReplicas(m);
        if (coldStartMs !== undefined)
          record(`scaled from zero: ${info.id} ready ${Math.round(coldStartMs)} ms after the first request`, {
            coldStartMs: Math.round(coldStartMs),
          });
        else
          record(
            `${info.id} ready in ${Math.round((info.readyAt ?? info.startedAt) - info.startedAt)} ms at ${info.address}`,
          );
        break;
      }
      case 'draining': {
        m.replicaLeft(info.id);
        const done = this.syncReplicas(m);
        this.retiring.set(info.id, done);
        void done.finally(() => this.retiring.delete(info.id));
        break;
      }
      case 'crashed':
        m.replicaLeft(info.id);
        void this.syncReplicas(m);
        record(`${info.id} crashed: ${e.detail ?? 'exited'}`);
        break;
      case 'failed':
      case 'crash-loop': {
        const last = e.lastError ?? e.detail ?? 'exited';
        const reason = e.type === 'failed' ? last : `crash loop: ${last}`;
        // Reported once per reason: a replica restarted into the same failure says nothing new.
        if (m.fail(reason)) {
          record(`replicas cannot start: ${reason}; waiting requests fail with FLT_REPLICA_FAILED`);
          this.deps.logger.error('variant cannot start replicas', { variant: m.key, reason });
        }
        break;
      }
      case 'starting':
      case 'stopped':
        break;
    }
  }

  /** Puts the variant's ready replicas into the gateway; resolves when the ones that left are idle. */
  private syncReplicas(m: VariantControl): Promise<void> {
    return this.deps.gateway.setReplicas(m.service, m.tag, m.addresses());
  }

  /**
   * A request waits at a variant with no ready replica: fail it at once when the variant's
   * replicas cannot start, else start one replica now, not at the next tick.
   */
  private onDemand(m: VariantControl): void {
    if (this.stopped) return;
    if (m.failure !== undefined) {
      m.rejectWaiting();
      return;
    }
    if (m.wake(this.deps.clock.now()))
      this.recorder.record(
        'scale',
        m.service,
        m.tag,
        `scale from zero: a request is waiting -> ${m.scaling.desired}`,
      );
  }

  private controlOf(service: string, tag: string): VariantControl {
    const s = this.serviceSpec(service);
    const v = s.variants.find((x) => x.tag === tag);
    if (!v)
      throw new NotFoundError(
        'FLT_VARIANT_NOT_FOUND',
        `service ${service} has no variant ${tag}; variants: ${s.variants.map((x) => x.tag).join(', ')}`,
      );
    const m = this.variants.get(keyOf(service, tag));
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
}

const keyOf = (service: string, tag: string): string => `${service}/${tag}`;
