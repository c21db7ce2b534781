/**
 * Fakes for unit tests of the fleet: fake time (a clock and timers you advance by hand), an
 * orchestrator that records desired counts and emits the replica events a test asks for, and a
 * gateway that keeps weights, replicas and per-variant load. Nothing here starts a process,
 * opens a socket or sleeps.
 */
import type { FleetGateway, FleetTimers, ManagedVariant } from '../../src/fleet/index.js';
import type { Activator, GatewayState, ReplicaAddress } from '../../src/gateway/index.js';
import type {
  Orchestrator,
  ReplicaEvent,
  ReplicaInfo,
  ReplicaState,
  ReplicaTemplate,
} from '../../src/orchestrator/index.js';
import type { ServiceFile } from '../../src/spec/index.js';

/** A clock and timers that move only when `advance` is called. */
export class FakeTime implements FleetTimers {
  private nowMs = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; every: number | undefined; fn: () => void }>();

  now(): number {
    return this.nowMs;
  }

  after(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + ms, every: undefined, fn });
    return () => this.timers.delete(id);
  }

  every(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + ms, every: ms, fn });
    return () => this.timers.delete(id);
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      let next: [number, { at: number; every: number | undefined; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      const [id, t] = next;
      this.nowMs = t.at;
      if (t.every !== undefined) t.at += t.every;
      else this.timers.delete(id);
      t.fn();
    }
    this.nowMs = end;
  }
}

/** An orchestrator that keeps desired counts and emits the events a test asks for. */
export class FakeOrchestrator implements Orchestrator {
  readonly desired = new Map<string, number>();
  readonly templates = new Map<string, ReplicaTemplate>();
  /** Every `scale` call, in order. */
  readonly calls: [string, number][] = [];
  private readonly replicas = new Map<string, ReplicaInfo>();
  private readonly listeners = new Set<(e: ReplicaEvent) => void>();
  private serial = 0;
  closed = false;

  constructor(private readonly time: FakeTime) {}

  apply(variant: string, template: ReplicaTemplate): void {
    this.templates.set(variant, template);
  }

  scale(variant: string, replicas: number): void {
    this.desired.set(variant, replicas);
    this.calls.push([variant, replicas]);
  }

  list(): readonly ReplicaInfo[] {
    return [...this.replicas.values()];
  }

  watch(listener: (e: ReplicaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** A replica of `variant` became ready at `127.0.0.1:<port>`; returns it. */
  ready(variant: string, startedAt = this.time.now()): ReplicaInfo {
    const n = ++this.serial;
    const info = this.info(`${variant}#${n}`, variant, 'ready', startedAt, 9000 + n);
    this.emit({ type: 'ready', replica: info });
    return info;
  }

  /** A replica started and failed (e.g. its model version is not in the repository). */
  failed(variant: string, detail: string): void {
    const info = this.info(`${variant}#${++this.serial}`, variant, 'crashed', this.time.now(), undefined);
    this.emit({ type: 'failed', replica: info, detail });
  }

  /** A ready replica crashed. */
  crashed(replica: ReplicaInfo, detail: string): void {
    const info = { ...replica, state: 'crashed' as const };
    this.replicas.delete(replica.id);
    this.emit({ type: 'crashed', replica: info, detail });
  }

  private info(
    id: string,
    variant: string,
    state: ReplicaState,
    startedAt: number,
    port: number | undefined,
  ): ReplicaInfo {
    const info: ReplicaInfo = {
      id,
      variant,
      state,
      pid: undefined,
      address: port !== undefined ? `127.0.0.1:${port}` : undefined,
      grpcAddress: undefined,
      restarts: 0,
      startedAt,
      readyAt: state === 'ready' ? this.time.now() : undefined,
    };
    if (state === 'ready') this.replicas.set(id, info);
    return info;
  }

  private emit(e: ReplicaEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** One variant's traffic as the fake gateway counts it. */
export class FakeVariantLoad implements ManagedVariant {
  weight: number;
  inflightNow = 0;
  requests = 0;
  errors = 0;
  activator: Activator | undefined;
  replicas: readonly ReplicaAddress[] = [];
  private integral = 0;
  private integratedAt: number;
  private activeAt: number | undefined;
  p99: number | undefined;

  constructor(
    private readonly time: FakeTime,
    weight: number,
  ) {
    this.weight = weight;
    this.integratedAt = time.now();
  }

  get inflight(): number {
    return this.inflightNow;
  }

  /** `n` requests in flight from now on. */
  setInflight(n: number): void {
    this.integrate();
    this.inflightNow = n;
    if (n > 0) this.activeAt = this.time.now();
  }

  /** `n` finished requests, `failed` of them errors. */
  finish(n: number, failed = 0): void {
    this.requests += n;
    this.errors += failed;
    this.activeAt = this.time.now();
  }

  concurrencyIntegral(): number {
    this.integrate();
    return this.integral;
  }

  lastActiveAt(): number | undefined {
    return this.inflightNow > 0 ? this.time.now() : this.activeAt;
  }

  readonly latencies = { quantileSince: (): number | undefined => this.p99 };

  private integrate(): void {
    const now = this.time.now();
    this.integral += this.inflightNow * (now - this.integratedAt);
    this.integratedAt = now;
  }
}

/** A gateway holding the services of a file: weights, replicas and load per variant. */
export class FakeGateway implements FleetGateway {
  readonly loads = new Map<string, FakeVariantLoad>();

  constructor(
    private readonly file: ServiceFile,
    time: FakeTime,
  ) {
    for (const s of file.services)
      for (const v of s.variants) this.loads.set(`${s.name}/${v.tag}`, new FakeVariantLoad(time, v.weight));
  }

  load(service: string, tag: string): FakeVariantLoad {
    const l = this.loads.get(`${service}/${tag}`);
    if (!l) throw new Error(`no variant ${service}/${tag}`);
    return l;
  }

  async setReplicas(service: string, tag: string, addresses: readonly ReplicaAddress[]): Promise<void> {
    this.load(service, tag).replicas = addresses;
  }

  setWeights(service: string, weights: Readonly<Record<string, number>>): void {
    for (const [tag, w] of Object.entries(weights)) this.load(service, tag).weight = w;
  }

  managedVariant(service: string, tag: string): ManagedVariant {
    return this.load(service, tag);
  }

  state(): GatewayState {
    return {
      atMs: 0,
      services: this.file.services.map((s) => ({
        name: s.name,
        hosts: s.hosts,
        balancer: 'least_request',
        activeRequests: 0,
        activeRetries: 0,
        variants: s.variants.map((v) => {
          const l = this.load(s.name, v.tag);
          return {
            tag: v.tag,
            weight: l.weight,
            modelName: v.modelName,
            runs: v.runs.kind,
            inflight: l.inflight,
            requests: l.requests,
            errors: l.errors,
            concurrencyIntegral: l.concurrencyIntegral(),
            replicas: l.replicas.map((r) => ({
              id: `${r.http.host}:${r.http.port}`,
              active: 0,
              healthy: true,
              ejected: false,
              ejections: 0,
              requests: 0,
              errors: 0,
            })),
          };
        }),
      })),
    };
  }
}
