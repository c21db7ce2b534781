import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/index.js';
import { isReplicaMessage, type ReplicaModel } from '../../server/cluster/replica-handshake.js';
import type { ReplicaInfo, ReplicaState, ReplicaTemplate } from '../orchestrator.js';
import { freePort } from './free-port.js';

const CLI = fileURLToPath(new URL('../../../../bin/flotilla.js', import.meta.url));

/**
 * Model servers get an IPC channel (fd 3) for the typed readiness handshake; stdin stays a pipe
 * whose closing tells them the parent is gone (`--exit-with-parent`).
 */
const MODEL_STDIO = ['pipe', 'ignore', 'pipe', 'ipc'] as const;

/** Starts a standby model server: imported and waiting on stdin for its `serve` arguments. */
export function spawnStandby(): ChildProcess {
  const proc = spawn(process.execPath, [CLI, '--standby-serve'], {
    stdio: [...MODEL_STDIO],
    detached: true,
  });
  // Until adopted nothing reads its output; a pipe nobody drains could block it.
  proc.stderr!.resume();
  return proc;
}

export interface ChildReplicaOptions {
  readonly id: string;
  readonly variant: string;
  readonly template: ReplicaTemplate;
  /** How long a replica may take to become ready before it counts as crashed. */
  readonly startupTimeoutMs: number;
  /** How long after SIGTERM before SIGKILL. */
  readonly stopGraceMs: number;
  readonly restarts: number;
  /** A pre-started `flotilla serve` waiting for its arguments, if one is at hand (model replicas). */
  readonly standby?: () => ChildProcess | undefined;
}

export interface ChildReplicaHooks {
  readonly onReady: (r: ChildReplica) => void;
  /** It started but does not serve what it was asked to (models that did not load); it is stopping. */
  readonly onFailed: (r: ChildReplica, detail: string) => void;
  /** The process ended without being asked to (or never became ready). */
  readonly onCrash: (r: ChildReplica, detail: string) => void;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * One replica as a child process in its own process group (so a command's own children stop
 * with it): start, wait for readiness, stop with SIGTERM then SIGKILL after a grace. A model
 * server says where it listens and that its models are loaded through the typed handshake over
 * IPC (`replica-handshake.ts`); a command replica is polled over HTTP at its readiness path.
 */
export class ChildReplica {
  private proc: ChildProcess | undefined;
  private stateValue: ReplicaState = 'starting';
  private address: string | undefined;
  private grpcAddress: string | undefined;
  private readonly startedAt: number;
  private readyAt: number | undefined;
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();
  private readonly tail: string[] = [];
  private startupTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly options: ChildReplicaOptions,
    private readonly hooks: ChildReplicaHooks,
  ) {
    this.startedAt = hooks.now();
  }

  get state(): ReplicaState {
    return this.stateValue;
  }

  info(): ReplicaInfo {
    return {
      id: this.options.id,
      variant: this.options.variant,
      state: this.stateValue,
      pid: this.proc?.pid,
      address: this.address,
      grpcAddress: this.grpcAddress,
      restarts: this.options.restarts,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
    };
  }

  /** Spawns the process and resolves once it is ready (or has failed, reported through onCrash). */
  async start(): Promise<void> {
    const t = this.options.template;
    // Undefined: readiness comes through the handshake, not HTTP polling.
    let readinessPath: string | undefined;
    if (t.kind === 'model') {
      const models = [t.version === undefined ? t.model : `${t.model}:${t.version}`, ...(t.with ?? [])].join(
        ',',
      );
      const args = ['--model-repository', t.repository, '--models', models];
      args.push(
        '--http-port',
        '0',
        '--grpc-port',
        '0',
        '--poll-interval',
        '0',
        '--exit-with-parent',
        ...(t.args ?? []),
      );
      const standby = this.options.standby?.();
      if (standby) {
        standby.stdin!.write(`${JSON.stringify(args)}\n`);
        this.proc = standby;
      } else
        this.proc = spawn(process.execPath, [CLI, 'serve', ...args], {
          stdio: [...MODEL_STDIO],
          detached: true,
        });
      this.proc.on('message', (m: unknown) => this.onMessage(m, t));
      readinessPath = undefined;
    } else {
      const port = await freePort();
      this.address = `127.0.0.1:${port}`;
      this.proc = spawn('sh', ['-c', t.command], {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
        env: { ...process.env, PORT: String(port) },
      });
      readinessPath = t.readinessPath ?? '/';
    }
    const proc = this.proc;
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => this.onOutput(chunk));
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        // Whatever the shell started must not outlive it.
        signalGroup(proc, 'SIGKILL');
        resolve();
        if (!this.stopping) this.crash(`exited with ${signal ?? `code ${code}`}`);
        else this.stateValue = 'stopped';
      }),
    );
    this.watchStartup();
    if (readinessPath !== undefined) await this.pollReady(readinessPath);
  }

  private onOutput(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      // Without its timestamp, the same error reads the same on every restart (reported once).
      this.tail.push(line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s+/, ''));
      if (this.tail.length > 20) this.tail.shift();
      this.hooks.logger.debug(line, { replica: this.options.id });
    }
  }

  /** The model server's handshake: where it listens, then which of the models asked for loaded. */
  private onMessage(m: unknown, t: Extract<ReplicaTemplate, { kind: 'model' }>): void {
    if (!isReplicaMessage(m) || this.stateValue !== 'starting' || this.stopping) return;
    if (m.type === 'replica:listening') {
      this.address = m.http;
      this.grpcAddress = m.grpc;
      return;
    }
    const missing = missingModels(t, m.models);
    if (missing.length > 0) {
      this.stateValue = 'crashed';
      this.hooks.onFailed(this, missing.join('; '));
      void this.stop();
      return;
    }
    if (this.address === undefined) return;
    this.markReady();
  }

  private markReady(): void {
    this.stateValue = 'ready';
    this.readyAt = this.hooks.now();
    clearTimeout(this.startupTimer);
    this.hooks.onReady(this);
  }

  /**
   * Counts as crashed when not ready within the startup timeout from its start. The check runs
   * after the event loop has read what already arrived (setImmediate follows the poll phase): a
   * parent that was too busy to look must not time out a replica whose ready message is waiting.
   */
  private watchStartup(): void {
    this.startupTimer = setTimeout(
      () =>
        setImmediate(() => {
          if (this.stateValue !== 'starting' || this.stopping) return;
          this.crash(`not ready within ${this.options.startupTimeoutMs} ms`);
          void this.stop();
        }),
      this.options.startupTimeoutMs,
    );
    this.startupTimer.unref();
  }

  private async pollReady(path: string): Promise<void> {
    while (!this.stopping && this.stateValue === 'starting') {
      if (this.address !== undefined) {
        try {
          const res = await fetch(`http://${this.address}${path}`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          if (res.status === 200 && this.stateValue === 'starting' && !this.stopping) {
            this.markReady();
            return;
          }
        } catch {
          // Not listening yet.
        }
      }
      await new Promise<void>((r) => setTimeout(r, 25));
    }
  }

  private crash(detail: string): void {
    clearTimeout(this.startupTimer);
    if (this.stateValue === 'crashed' || this.stateValue === 'stopped') return;
    this.stateValue = 'crashed';
    const last = this.tail.slice(-3).join(' | ');
    this.hooks.onCrash(this, last ? `${detail}; last output: ${last}` : detail);
  }

  /** Leaves routing (the caller removes it first): SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    clearTimeout(this.startupTimer);
    const proc = this.proc;
    if (this.stateValue !== 'crashed') this.stateValue = 'draining';
    this.stopping = true;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      this.stateValue = this.stateValue === 'crashed' ? 'crashed' : 'stopped';
      return;
    }
    signalGroup(proc, 'SIGTERM');
    const killer = setTimeout(() => signalGroup(proc, 'SIGKILL'), this.options.stopGraceMs);
    await this.exited;
    clearTimeout(killer);
    // A command's own children may outlive it: make sure the whole group is gone.
    signalGroup(proc, 'SIGKILL');
    if (this.stateValue !== 'crashed') this.stateValue = 'stopped';
  }

  /** Kills the whole process group now (a second Ctrl-C: no grace). */
  kill(): void {
    clearTimeout(this.startupTimer);
    this.stopping = true;
    if (this.proc) signalGroup(this.proc, 'SIGKILL');
  }
}

/**
 * The models of a template that are not ready, each with the server's reason: the model itself
 * (its pinned version, when pinned) and every `with` model.
 */
export function missingModels(
  t: Extract<ReplicaTemplate, { kind: 'model' }>,
  held: readonly ReplicaModel[],
): string[] {
  const wanted: [string, number | undefined][] = [
    [t.model, t.version],
    ...(t.with ?? []).map((w): [string, number | undefined] => [w, undefined]),
  ];
  const out: string[] = [];
  for (const [name, version] of wanted) {
    const rows = held.filter((r) => r.name === name);
    const want = version === undefined ? name : `${name} version ${version}`;
    if (rows.some((r) => r.state === 'READY' && (version === undefined || r.version === String(version))))
      continue;
    if (rows.length === 0) {
      out.push(`model ${name} is not in the repository ${t.repository}`);
      continue;
    }
    const failed = rows.find((r) => (version === undefined || r.version === String(version)) && r.reason);
    const versions = rows.flatMap((r) => (r.version !== undefined ? [r.version] : []));
    out.push(
      failed?.reason
        ? `${want} did not load: ${failed.reason}`
        : `${want} is not in the repository ${t.repository}${versions.length > 0 ? ` (versions there: ${versions.join(', ')})` : ''}`,
    );
  }
  return out;
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, signal);
  } catch {
    // Already gone.
  }
}
