import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/index.js';
import type { ReplicaInfo, ReplicaState, ReplicaTemplate } from '../orchestrator.js';
import { freePort } from './free-port.js';

const CLI = fileURLToPath(new URL('../../../../bin/flotilla.js', import.meta.url));

/** Starts a standby model server: imported and waiting on stdin for its `serve` arguments. */
export function spawnStandby(): ChildProcess {
  const proc = spawn(process.execPath, [CLI, '--standby-serve'], {
    stdio: ['pipe', 'ignore', 'pipe'],
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
  /** The process ended without being asked to (or never became ready). */
  readonly onCrash: (r: ChildReplica, detail: string) => void;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * One replica as a child process in its own process group (so a command's own children stop
 * with it): start, wait for readiness over HTTP, stop with SIGTERM then SIGKILL after a grace.
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
  private poke: (() => void) | undefined;

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
    let readinessPath: string;
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
          stdio: ['pipe', 'ignore', 'pipe'],
          detached: true,
        });
      readinessPath = '/v2/health/ready';
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
    await this.waitReady(readinessPath);
  }

  private onOutput(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      this.tail.push(line);
      if (this.tail.length > 20) this.tail.shift();
      this.hooks.logger.debug(line, { replica: this.options.id });
      const m = /listening http=http:\/\/(\S+)(?: grpc=(\S+))?/.exec(line);
      if (m) {
        this.address = m[1];
        this.grpcAddress = m[2];
        this.poke?.();
      } else if (/ ready models=/.test(line)) this.poke?.();
    }
  }

  private async waitReady(path: string): Promise<void> {
    const deadline = this.hooks.now() + this.options.startupTimeoutMs;
    while (!this.stopping && this.stateValue === 'starting') {
      if (this.address !== undefined) {
        try {
          const res = await fetch(`http://${this.address}${path}`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          if (res.status === 200 && this.stateValue === 'starting') {
            this.stateValue = 'ready';
            this.readyAt = this.hooks.now();
            this.hooks.onReady(this);
            return;
          }
        } catch {
          // Not listening yet.
        }
      }
      if (this.hooks.now() > deadline) {
        this.crash(`not ready within ${this.options.startupTimeoutMs} ms`);
        await this.stop();
        return;
      }
      // Polls, and checks at once when the server logs that it is ready.
      await new Promise<void>((r) => {
        const t = setTimeout(r, 25);
        this.poke = () => {
          clearTimeout(t);
          r();
        };
      });
      this.poke = undefined;
    }
  }

  private crash(detail: string): void {
    if (this.stateValue === 'crashed' || this.stateValue === 'stopped') return;
    this.stateValue = 'crashed';
    const last = this.tail.slice(-3).join(' | ');
    this.hooks.onCrash(this, last ? `${detail}; last output: ${last}` : detail);
  }

  /** Leaves routing (the caller removes it first): SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
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
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, signal);
  } catch {
    // Already gone.
  }
}
