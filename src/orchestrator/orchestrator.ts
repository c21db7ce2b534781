/** How to run one replica of a variant. */
export type ReplicaTemplate =
  | {
      /** A `flotilla serve` process for one model version. */
      readonly kind: 'model';
      readonly repository: string;
      readonly model: string;
      readonly version?: number;
      /** Other models to load beside it (a pipeline's parts). */
      readonly with?: readonly string[];
      /** Extra `flotilla serve` flags. */
      readonly args?: readonly string[];
    }
  | {
      /** Any process that listens on `$PORT`. */
      readonly kind: 'command';
      readonly command: string;
      /** Path answering 200 when ready (default `/`). */
      readonly readinessPath?: string;
    };

/** Where a replica is in its life. */
export type ReplicaState = 'starting' | 'ready' | 'draining' | 'stopped' | 'crashed';

/** One running (or recently running) copy of a variant. */
export interface ReplicaInfo {
  readonly id: string;
  /** `service/variant` */
  readonly variant: string;
  readonly state: ReplicaState;
  readonly pid: number | undefined;
  /** `127.0.0.1:port` for HTTP, once known. */
  readonly address: string | undefined;
  readonly grpcAddress: string | undefined;
  readonly restarts: number;
  readonly startedAt: number;
  readonly readyAt: number | undefined;
}

/** What the orchestrator reports as replicas change state. */
export interface ReplicaEvent {
  /**
   * `failed`: the replica started but cannot serve what it was asked to (a model or version it
   * could not load); `detail` says why. It is stopped and retried with backoff like a crash.
   */
  readonly type: 'starting' | 'ready' | 'draining' | 'stopped' | 'crashed' | 'crash-loop' | 'failed';
  readonly replica: ReplicaInfo;
  readonly detail?: string;
  /** `crashed`, `failed`, `crash-loop`: the replica's last error (how it ended and its last output). */
  readonly lastError?: string;
}

/**
 * Makes desired replicas real: child processes on this machine (`LocalOrchestrator`), or
 * Kubernetes objects (rendered by `flotilla render`).
 */
export interface Orchestrator {
  /** Declares (or replaces) how a variant's replicas run. */
  apply(variant: string, template: ReplicaTemplate): void;
  /** Sets how many replicas a variant should have; returns at once, events follow. */
  scale(variant: string, replicas: number): void;
  list(): readonly ReplicaInfo[];
  /** Subscribes to replica events; returns an unsubscribe function. */
  watch(listener: (event: ReplicaEvent) => void): () => void;
  /** Stops every replica (draining first) and resolves once no child process is left. */
  close(): Promise<void>;
}
