import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfigYaml } from '../../spec/index.js';
import type { ReplicaTemplate } from '../orchestrator.js';

/** What one replica costs the machine (see `scaleLimit` in src/fleet/capacity.ts for the rule). */
export interface ReplicaCost {
  /** Inference instances (threads) the replica runs: the sum over the models it loads. */
  readonly instances: number;
  /** Estimated resident memory, bytes. */
  readonly memoryBytes: number;
}

export const REPLICA_COST_DEFAULTS = Object.freeze({
  /** A model server process before its models: Node, onnxruntime and its HTTP and gRPC servers. */
  baseMemoryBytes: 150 * 1024 * 1024,
  /** An instance of a model holds about this many times its files' size (weights plus arenas). */
  modelMemoryFactor: 2,
});

/**
 * Estimates a replica's cost from its model configs and files, read once at start-up: each model
 * runs `instances` instances (its config; one per core by default) and each instance holds about
 * `modelMemoryFactor` times the files of the version it loads (the pinned one, else the highest).
 * A command replica, or a model that cannot be read, counts as one instance of a bare server.
 */
export function estimateReplicaCost(t: ReplicaTemplate): ReplicaCost {
  const bare = { instances: 1, memoryBytes: REPLICA_COST_DEFAULTS.baseMemoryBytes };
  if (t.kind !== 'model') return bare;
  let instances = 0;
  let memoryBytes = REPLICA_COST_DEFAULTS.baseMemoryBytes;
  const models: [string, number | undefined][] = [
    [t.model, t.version],
    ...(t.with ?? []).map((w): [string, number | undefined] => [w, undefined]),
  ];
  for (const [name, version] of models) {
    const dir = join(t.repository, name);
    try {
      const configFile = join(dir, 'config.yaml');
      const text = existsSync(configFile) ? readFileSync(configFile, 'utf8') : '';
      const n = parseModelConfigYaml(text, configFile).instances;
      const versions = readdirSync(dir)
        .filter((d) => /^\d+$/.test(d))
        .map(Number);
      const v = version ?? Math.max(...versions);
      instances += n;
      if (versions.includes(v))
        memoryBytes += n * REPLICA_COST_DEFAULTS.modelMemoryFactor * folderBytes(join(dir, String(v)));
    } catch {
      instances += 1;
    }
  }
  return { instances: Math.max(1, instances), memoryBytes };
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
