/**
 * `flotilla up` with mnist at exactly two replicas, for the probes that need replicas behind the
 * gateway (deep nesting's ejection check, kill): started from a service file in a temporary
 * folder, ready once both replicas are.
 */
import { startUp, tempDir, type UpProcess, writeFile } from '../../test/fixtures/up/up-helpers.js';
import { waitFor } from '../../test/helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../../test/helpers/paths.js';

/** A running `up` and how to end it. */
export interface UpFleet {
  readonly up: UpProcess;
  /** Pids of `up` and everything below it (replicas). */
  pids(): number[];
  /** Replicas of mnist/v1: ready ones, and those the gateway counts unhealthy or ejected. */
  replicas(): Promise<{ ready: { id: string; pid?: number }[]; unhealthy: number }>;
  stop(): Promise<void>;
}

/** Starts `up` with mnist v1 at two replicas and waits for both to be ready. */
export async function upWithTwoReplicas(): Promise<UpFleet> {
  const tmp = tempDir('reliability');
  const file = writeFile(
    tmp.dir,
    'mnist.yaml',
    `services:
  mnist:
    variants:
      - tag: v1
        model: { repository: ${JSON.stringify(EXAMPLE_MODELS)}, name: mnist, version: 1 }
        scale: { min: 2, max: 2, initial: 2 }
`,
  );
  const up = await startUp(file, [], { listenTimeoutMs: 60_000 });
  const replicas = async () => {
    const v = await up.variant('mnist', 'v1');
    return {
      ready: v.replicas
        .filter((r) => r.state === 'ready')
        .map((r) => ({ id: r.id, ...(r.pid !== undefined ? { pid: r.pid } : {}) })),
      unhealthy: v.replicas.filter((r) => r.healthy === false).length,
    };
  };
  try {
    await waitFor(async () => (await replicas()).ready.length === 2, 60_000, 'two ready mnist replicas');
  } catch (err) {
    await up.cleanup();
    tmp.cleanup();
    throw err;
  }
  return {
    up,
    pids: () => [up.proc.pid!, ...up.descendants()],
    replicas,
    async stop() {
      await up.cleanup();
      tmp.cleanup();
    },
  };
}
