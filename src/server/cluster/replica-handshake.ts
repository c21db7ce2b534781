import cluster from 'node:cluster';

/**
 * The typed readiness handshake between a model server started as a replica (`flotilla up`'s
 * orchestrator) and its parent: JSON messages over the IPC channel the parent opens (Node's
 * `child_process` 'ipc' stdio), never a log line to parse, so rewording a log message cannot
 * break `up`. The `serve --processes` group speaks over the same kind of channel (cluster IPC),
 * with its own `flotilla:` messages; these are `replica:` messages.
 */

/** One model version as the server holds it after its start. */
export interface ReplicaModel {
  readonly name: string;
  /** Absent for a model none of whose versions could be read (a bad config, no version folder). */
  readonly version?: string;
  /** `READY`, or why not (`UNAVAILABLE` with `reason`). */
  readonly state: string;
  readonly reason?: string;
}

/** What a replica tells its parent, in order: listening, then ready (or failed). */
export type ReplicaMessage =
  | {
      readonly type: 'replica:listening';
      /** `host:port` of HTTP and of gRPC. */
      readonly http: string;
      readonly grpc: string;
    }
  | {
      /** Startup finished: every model asked for was tried; `models` says which are ready. */
      readonly type: 'replica:ready';
      readonly models: readonly ReplicaModel[];
      /** Milliseconds from the process's start to now, measured by the replica itself. */
      readonly uptimeMs: number;
    };

/** True for a message of this handshake (other IPC traffic is someone else's). */
export function isReplicaMessage(m: unknown): m is ReplicaMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'replica:listening' || t === 'replica:ready';
}

/**
 * Sends one handshake message to the parent, when this process is a replica started with an IPC
 * channel (not a `serve --processes` member: its channel goes to the group's primary).
 */
export function tellParent(message: ReplicaMessage): void {
  if (cluster.isWorker || typeof process.send !== 'function' || !process.connected) return;
  process.send(message);
}
