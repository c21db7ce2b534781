import { createInterface } from 'node:readline';

/** The argument a standby process is started with (not a command users type). */
export const STANDBY_ARG = '--standby-serve';

/**
 * A pre-started `flotilla serve` with nothing loaded yet (a "stem cell", after OpenWhisk's
 * pre-warmed containers): it imports the model server's code, then waits for one line on stdin —
 * the JSON array of `serve` arguments — and becomes that server. A replica started from zero then
 * skips Node's start-up and the module loading, and only loads its model. It exits when stdin
 * closes or on SIGTERM before it is given its arguments.
 */
export async function standby(): Promise<string[]> {
  const quit = (): never => process.exit(0);
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
  // The code every replica needs, loaded while nobody waits.
  const [{ loadGrpcServer }] = await Promise.all([import('../server/index.js'), import('./serve.js')]);
  await loadGrpcServer();
  const lines = createInterface({ input: process.stdin });
  const first = await new Promise<string | undefined>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(undefined));
  });
  if (first === undefined) quit();
  // Stdin stays open: `--exit-with-parent` in the arguments watches it from here on.
  lines.removeAllListeners();
  lines.close();
  process.removeListener('SIGTERM', quit);
  process.removeListener('SIGINT', quit);
  const args = JSON.parse(first!) as unknown;
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
    throw new Error(`${STANDBY_ARG}: expected a JSON array of serve arguments on stdin`);
  return args as string[];
}
