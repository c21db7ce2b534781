import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Logger } from '../../core/index.js';
import type { Orchestrator, ReplicaEvent, ReplicaInfo, ReplicaTemplate } from '../orchestrator.js';
import { BACKOFF_DEFAULTS, type BackoffConfig, nextCrashCount, restartDelay } from './backoff.js';
import { ChildReplica, spawnStandby } from './child-replica.js';

export interface LocalOrchestratorOptions {
  readonly startupTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly backoff: BackoffConfig;
  /**
   * Keep one model server pre-started (imported, nothing loaded) for the next model replica, so a
   * start from zero only loads its model. Off: every replica is a fresh process.
   */
  readonly standby: boolean;
  /** How long after a standby is used before the next one starts (it must not slow the start it serves). */
  readonly standbyDelayMs: number;
  /**
   * Replicas starting at once, over all variants; the others wait their turn. A start is a
   * Node process importing onnxruntime and loading models: many at once on a few cores starve
   * each other and the gateway (admin calls, Ctrl-C) alike. Default: twice the machine's cores
   * (a start waits on I/O part of the time), at least 4.
   */
  readonly maxStarting: number;
}

export const LOCAL_ORCHESTRATOR_DEFAULTS: LocalOrchestratorOptions = Object.freeze({
  startupTimeoutMs: 60_000,
  stopGraceMs: 10_000,
  backoff: BACKOFF_DEFAULTS,
  standby: true,
  standbyDelayMs: 1_500,
  maxStarting: Math.max(4, 2 * availableParallelism()),
});

export interface LocalOrchestratorDeps {
  readonly logger: Logger;
  readonly now: () => number;
  /** Resolves once the gateway has no request in flight on the replica (before SIGTERM). */
  readonly waitIdle?: (replica: ReplicaInfo) => Promise<void>;
}

interface VariantState {
  template: ReplicaTemplate;
  desired: number;
  readonly replicas: ChildReplica[];
  crashes: number;
  restartAt: number;
  restartTimer: NodeJS.Timeout | undefined;
  serial: number;
}

/**
 * Replicas as child processes on this machine: keeps each variant at its desired count, restarts
 * crashed replicas with exponential backoff (reporting crash loops), and on scale-down stops the
 * replicas that are not ready yet first, then the newest. `scale` returns at once: replicas start
 * in the background, at most `maxStarting` at a time. Once `close` (or `kill`) is called nothing
 * starts any more.
 */
export class LocalOrchestrator implements Orchestrator {
  private readonly variants = new Map<string, VariantState>();
  private readonly listeners = new Set<(e: ReplicaEvent) => void>();
  private readonly stopping = new Set<Promise<void>>();
  private closed = false;
  /** A reconcile of every variant is queued (starts happen outside the caller's turn). */
  private reconcileQueued = false;
  private standbyProc: ChildProcess | undefined;
  private standbyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: LocalOrchestratorOptions,
    private readonly deps: LocalOrchestratorDeps,
  ) {}

  apply(variant: string, template: ReplicaTemplate): void {
    if (template.kind === 'model') this.prepareStandby(0);
    const v = this.variants.get(variant);
    if (v) v.template = template;
    else
      this.variants.set(variant, {
        template,
        desired: 0,
        replicas: [],
        crashes: 0,
        restartAt: 0,
        restartTimer: undefined,
        serial: 0,
      });
  }

  scale(variant: string, replicas: number): void {
    const v = this.variants.get(variant);
    if (!v) throw new Error(`unknown variant ${variant}: apply it first`);
    v.desired = Math.max(0, Math.floor(replicas));
    this.queueReconcile();
  }

  /** Reconciles every variant on the next turn of the event loop (coalesced). */
  private queueReconcile(): void {
    if (this.reconcileQueued || this.closed) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      for (const [name, v] of this.variants) this.reconcile(name, v);
    });
  }

  /** Replicas starting now, over all variants. */
  private starting(): number {
    let n = 0;
    for (const v of this.variants.values()) for (const r of v.replicas) if (r.state === 'starting') n++;
    return n;
  }

  /** Desired replica count of a variant. */
  desired(variant: string): number {
    return this.variants.get(variant)?.desired ?? 0;
  }

  list(): readonly ReplicaInfo[] {
    return [...this.variants.values()].flatMap((v) => v.replicas.map((r) => r.info()));
  }

  watch(listener: (e: ReplicaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(type: ReplicaEvent['type'], replica: ChildReplica, detail?: string, lastError?: string): void {
    const event: ReplicaEvent = {
      type,
      replica: replica.info(),
      ...(detail ? { detail } : {}),
      ...(lastError ? { lastError } : {}),
    };
    for (const l of this.listeners) l(event);
  }

  private reconcile(name: string, v: VariantState): void {
    if (this.closed) return;
    const live = v.replicas.filter((r) => r.state === 'starting' || r.state === 'ready');
    if (live.length > v.desired) {
      // Not-yet-ready first (they serve nothing), then the newest.
      const victims = [...live]
        .sort((a, b) => rank(a) - rank(b) || b.info().startedAt - a.info().startedAt)
        .slice(0, live.length - v.desired);
      for (const r of victims) this.retire(v, r);
      return;
    }
    const missing = v.desired - live.length;
    if (missing <= 0) return;
    const wait = v.restartAt - this.deps.now();
    if (wait > 0) {
      if (!v.restartTimer) {
        v.restartTimer = setTimeout(() => {
          v.restartTimer = undefined;
          this.reconcile(name, v);
        }, wait);
      }
      return;
    }
    // The rest start as these become ready or fail (each of those reconciles again).
    const room = Math.max(0, this.options.maxStarting - this.starting());
    for (let i = 0; i < Math.min(missing, room); i++) this.launch(name, v);
  }

  private launch(name: string, v: VariantState): void {
    const replica = new ChildReplica(
      {
        id: `${name}#${++v.serial}`,
        variant: name,
        template: v.template,
        startupTimeoutMs: this.options.startupTimeoutMs,
        stopGraceMs: this.options.stopGraceMs,
        restarts: v.crashes,
        standby: () => this.takeStandby(),
      },
      {
        logger: this.deps.logger,
        now: this.deps.now,
        onReady: (r) => {
          this.deps.logger.info('replica ready', {
            replica: r.info().id,
            address: r.info().address,
            startMs: Math.round((r.info().readyAt ?? 0) - r.info().startedAt),
          });
          this.emit('ready', r);
          // A start slot is free.
          this.queueReconcile();
        },
        onFailed: (r, detail) => this.onCrash(v, r, detail, 'failed'),
        onCrash: (r, detail) => this.onCrash(v, r, detail, 'crashed'),
      },
    );
    v.replicas.push(replica);
    this.emit('starting', replica);
    void replica.start();
  }

  private onCrash(v: VariantState, r: ChildReplica, detail: string, type: 'crashed' | 'failed'): void {
    // A failed replica is still stopping: it leaves the list once its process is gone.
    if (type === 'crashed') this.remove(v, r);
    else this.track(r.stop().then(() => this.remove(v, r)));
    const ran = this.deps.now() - r.info().startedAt;
    v.crashes = nextCrashCount(v.crashes, ran, this.options.backoff);
    const delay = restartDelay(v.crashes, this.options.backoff);
    v.restartAt = this.deps.now() + delay;
    this.deps.logger.error('replica crashed', {
      replica: r.info().id,
      detail,
      restartInMs: delay,
      consecutiveCrashes: v.crashes,
    });
    this.emit(type, r, detail, detail);
    if (v.crashes >= this.options.backoff.crashLoopAfter)
      this.emit('crash-loop', r, `${v.crashes} crashes in a row; last: ${detail}`, detail);
    this.queueReconcile();
  }

  private track(done: Promise<void>): void {
    this.stopping.add(done);
    void done.finally(() => this.stopping.delete(done));
  }

  private retire(v: VariantState, r: ChildReplica): void {
    this.emit('draining', r);
    const done = (async () => {
      const info = r.info();
      if (info.state === 'ready' && this.deps.waitIdle) {
        await Promise.race([
          this.deps.waitIdle(info),
          new Promise((res) => setTimeout(res, this.options.stopGraceMs)),
        ]);
      }
      await r.stop();
      this.remove(v, r);
      this.emit('stopped', r);
    })();
    this.track(done);
  }

  private remove(v: VariantState, r: ChildReplica): void {
    const i = v.replicas.indexOf(r);
    if (i >= 0) v.replicas.splice(i, 1);
  }

  /** Starts a standby model server after `delayMs`, unless one is already there or coming. */
  private prepareStandby(delayMs: number): void {
    if (!this.options.standby || this.closed || this.standbyProc || this.standbyTimer) return;
    this.standbyTimer = setTimeout(() => {
      this.standbyTimer = undefined;
      if (this.closed || this.standbyProc) return;
      const proc = spawnStandby();
      this.standbyProc = proc;
      proc.once('exit', () => {
        if (this.standbyProc === proc) this.standbyProc = undefined;
      });
    }, delayMs);
  }

  /** Hands the standby to a starting replica (and schedules the next one). */
  private takeStandby(): ChildProcess | undefined {
    const proc = this.standbyProc;
    this.standbyProc = undefined;
    this.prepareStandby(this.options.standbyDelayMs);
    return proc && proc.exitCode === null && proc.signalCode === null ? proc : undefined;
  }

  /** From now on nothing starts: no reconcile, no restart, no standby (replicas running stay). */
  stopStarting(): void {
    this.closed = true;
    clearTimeout(this.standbyTimer);
    this.standbyTimer = undefined;
    for (const v of this.variants.values()) clearTimeout(v.restartTimer);
  }

  /**
   * Stops every replica (draining first) and resolves once no child process is left. From the
   * call on nothing starts: no reconcile, no restart, no standby.
   */
  async close(): Promise<void> {
    this.stopStarting();
    this.standbyTimer = undefined;
    const spare = this.standbyProc;
    this.standbyProc = undefined;
    if (spare?.pid !== undefined && spare.exitCode === null) {
      const gone = new Promise((r) => spare.once('exit', r));
      spare.kill('SIGTERM');
      await gone;
    }
    for (const v of this.variants.values()) {
      clearTimeout(v.restartTimer);
      v.desired = 0;
      for (const r of [...v.replicas]) if (r.state === 'starting' || r.state === 'ready') this.retire(v, r);
    }
    while (this.stopping.size > 0) await Promise.all([...this.stopping]);
  }

  /** Kills every replica's process group and the standby at once, without draining (a second signal). */
  kill(): void {
    this.closed = true;
    clearTimeout(this.standbyTimer);
    if (this.standbyProc?.pid !== undefined) {
      try {
        process.kill(-this.standbyProc.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const v of this.variants.values()) {
      clearTimeout(v.restartTimer);
      for (const r of v.replicas) r.kill();
    }
  }
}

function rank(r: ChildReplica): number {
  return r.state === 'starting' ? 0 : 1;
}
