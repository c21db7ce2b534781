import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../../core/index.js';

/**
 * `flotilla serve --processes N`: N server processes share the HTTP and gRPC ports (Node's
 * cluster; the primary hands each new connection to the next process). One Node thread answers
 * HTTP for a process, so a small model's server is bound by that thread while other cores idle;
 * N processes use them. Every process loads every model. The primary holds no models: it starts
 * the processes, restarts one that dies, aggregates their metrics for `/metrics`, passes a
 * repository load or unload to every process, and drains them all on SIGTERM.
 */

/** A repository change every process must apply. */
export type RepositoryOp = 'load' | 'unload';

type ToPrimary =
  | { readonly type: 'flotilla:listening' }
  | { readonly type: 'flotilla:ready'; readonly models: string }
  | { readonly type: 'flotilla:metrics'; readonly id: number }
  | {
      readonly type: 'flotilla:repository';
      readonly id: number;
      readonly op: RepositoryOp;
      readonly model: string;
    }
  | { readonly type: 'flotilla:applied'; readonly broadcast: number; readonly error?: string };

type ToProcess =
  | {
      readonly type: 'flotilla:metrics-text';
      readonly id: number;
      readonly contentType: string;
      readonly body: string;
    }
  | {
      readonly type: 'flotilla:apply';
      readonly broadcast: number;
      readonly op: RepositoryOp;
      readonly model: string;
    }
  | { readonly type: 'flotilla:repository-done'; readonly id: number; readonly errors: readonly string[] };

function isFlotillaMessage(m: unknown): m is { type: string } {
  return (
    typeof m === 'object' && m !== null && String((m as { type?: unknown }).type).startsWith('flotilla:')
  );
}

const RESTART_DELAY_MS = 1000;

/** The server processes the cluster knows of (dead ones until their exit is handled). */
function serverProcesses(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
}

/** The primary's side: starts, restarts and stops the server processes. */
export class ProcessGroup {
  private readonly aggregator = new AggregatorRegistry();
  private stopping = false;
  private nextBroadcast = 1;
  /** Processes that got as far as listening: one that dies before is a failure to start. */
  private readonly listening = new WeakSet<Worker>();
  private failed: ((reason: string) => void) | undefined;
  /** Processes that reported their models loaded; the group is ready once all `count` have. */
  private readonly readyProcesses = new WeakSet<Worker>();
  private onReady: ((models: string) => void) | undefined;
  private readonly broadcasts = new Map<
    number,
    { origin: Worker; id: number; waiting: number; errors: string[] }
  >();

  constructor(
    private readonly count: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts the processes. `failed` is called when one dies before it listens (a port in use, a
   * repository it cannot read): restarting it would only fail again.
   */
  start(failed: (reason: string) => void, ready?: (models: string) => void): void {
    this.failed = failed;
    this.onReady = ready;
    cluster.on('message', (worker, message: unknown) => {
      if (isFlotillaMessage(message)) this.onMessage(worker, message as ToPrimary);
    });
    cluster.on('exit', (worker, code, signal) => {
      this.settleBroadcastsWithout(worker);
      if (this.stopping) return;
      if (!this.listening.has(worker)) {
        this.failed?.(`a server process exited before it listened (code ${code ?? signal})`);
        return;
      }
      this.logger.error('server process exited; starting another', {
        pid: worker.process.pid,
        code,
        signal,
      });
      setTimeout(() => {
        if (!this.stopping) cluster.fork();
      }, RESTART_DELAY_MS).unref();
    });
    for (let i = 0; i < this.count; i++) cluster.fork();
  }

  /** Sends `signal` to every process and resolves once all have exited. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    this.stopping = true;
    await Promise.all(
      serverProcesses().map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) resolve();
            else {
              w.once('exit', () => resolve());
              w.process.kill(signal);
            }
          }),
      ),
    );
  }

  /** Kills every process at once (a second Ctrl-C: no drain). */
  kill(): void {
    this.stopping = true;
    for (const w of serverProcesses()) w.process.kill('SIGKILL');
  }

  private onMessage(worker: Worker, m: ToPrimary): void {
    switch (m.type) {
      case 'flotilla:listening':
        this.listening.add(worker);
        return;
      case 'flotilla:ready': {
        this.readyProcesses.add(worker);
        const ready = serverProcesses().filter((w) => this.readyProcesses.has(w)).length;
        // Once, when the whole group first serves: a restarted process logs its own line.
        if (ready >= this.count && this.onReady) {
          const announce = this.onReady;
          this.onReady = undefined;
          announce(m.models);
        }
        return;
      }
      case 'flotilla:metrics':
        this.aggregator.clusterMetrics().then(
          (body) =>
            send(worker, {
              type: 'flotilla:metrics-text',
              id: m.id,
              contentType: this.aggregator.contentType,
              body,
            }),
          (err: Error) =>
            send(worker, {
              type: 'flotilla:metrics-text',
              id: m.id,
              contentType: 'text/plain',
              body: `# ${err.message}\n`,
            }),
        );
        return;
      case 'flotilla:repository': {
        const others = serverProcesses().filter((w) => w !== worker && !w.isDead());
        if (others.length === 0) {
          send(worker, { type: 'flotilla:repository-done', id: m.id, errors: [] });
          return;
        }
        const broadcast = this.nextBroadcast++;
        this.broadcasts.set(broadcast, { origin: worker, id: m.id, waiting: others.length, errors: [] });
        for (const w of others) send(w, { type: 'flotilla:apply', broadcast, op: m.op, model: m.model });
        return;
      }
      case 'flotilla:applied': {
        const b = this.broadcasts.get(m.broadcast);
        if (!b) return;
        if (m.error !== undefined) b.errors.push(m.error);
        if (--b.waiting === 0) this.finish(m.broadcast);
        return;
      }
    }
  }

  private finish(broadcast: number): void {
    const b = this.broadcasts.get(broadcast)!;
    this.broadcasts.delete(broadcast);
    send(b.origin, { type: 'flotilla:repository-done', id: b.id, errors: b.errors });
  }

  /** A process that died answers no broadcast: the others' answers are enough. */
  private settleBroadcastsWithout(worker: Worker): void {
    for (const [id, b] of this.broadcasts) {
      if (b.origin === worker) this.broadcasts.delete(id);
      else if (--b.waiting === 0) this.finish(id);
    }
  }
}

function send(worker: Worker, message: ToProcess): void {
  if (!worker.isDead()) worker.send(message);
}

/** One server process's side: the whole group's metrics, and repository changes for every process. */
export class GroupMember {
  private nextId = 1;
  private readonly metricsWaiting = new Map<number, (m: { contentType: string; body: string }) => void>();
  private readonly repositoryWaiting = new Map<number, (errors: readonly string[]) => void>();

  /** `apply` runs a repository change another process was asked for. */
  constructor(registry: Registry, apply: (op: RepositoryOp, model: string) => Promise<void>) {
    // prom-client answers the primary's aggregation requests with this registry; it installs
    // that listener in a process only when an AggregatorRegistry is constructed there.
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry();
    process.on('message', (message: unknown) => {
      if (!isFlotillaMessage(message)) return;
      const m = message as ToProcess;
      switch (m.type) {
        case 'flotilla:metrics-text':
          this.metricsWaiting.get(m.id)?.(m);
          this.metricsWaiting.delete(m.id);
          return;
        case 'flotilla:repository-done':
          this.repositoryWaiting.get(m.id)?.(m.errors);
          this.repositoryWaiting.delete(m.id);
          return;
        case 'flotilla:apply':
          apply(m.op, m.model).then(
            () => process.send?.({ type: 'flotilla:applied', broadcast: m.broadcast } satisfies ToPrimary),
            (err: Error) =>
              process.send?.({
                type: 'flotilla:applied',
                broadcast: m.broadcast,
                error: err.message,
              } satisfies ToPrimary),
          );
          return;
      }
    });
  }

  /** Tells the primary this process serves (a later exit is a crash to restart, not a failed start). */
  listening(): void {
    process.send?.({ type: 'flotilla:listening' } satisfies ToPrimary);
  }

  /** Tells the primary this process's models are loaded (`models`: what its `ready` line lists). */
  ready(models: string): void {
    process.send?.({ type: 'flotilla:ready', models } satisfies ToPrimary);
  }

  /** Every process's metrics, summed by the primary. */
  metricsText(): Promise<{ contentType: string; body: string }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.metricsWaiting.set(id, resolve);
      process.send?.({ type: 'flotilla:metrics', id } satisfies ToPrimary);
    });
  }

  /** Has every other process apply a change this one has applied; resolves with their errors. */
  applyEverywhere(op: RepositoryOp, model: string): Promise<readonly string[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.repositoryWaiting.set(id, resolve);
      process.send?.({ type: 'flotilla:repository', id, op, model } satisfies ToPrimary);
    });
  }
}
