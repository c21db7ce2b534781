import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI } from './paths.js';

/** A running `flotilla` CLI process. */
export interface FlotillaProcess {
  readonly url: string;
  /** The gRPC `host:port` (from the same `listening` line); empty if the line has none. */
  readonly grpcAddress: string;
  readonly proc: ChildProcess;
  /** Everything the process has written to stderr so far. */
  logs(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a `flotilla` CLI command and resolves once it logs its `listening http=… [grpc=…]` line.
 * `what` names it in errors; it must listen within `listenTimeoutMs`.
 */
export async function startCli(
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly listenTimeoutMs: number; readonly what: string },
): Promise<FlotillaProcess> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let logs = '';
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => (logs += d));
  const [url, grpcAddress] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${options.what} did not listen within ${options.listenTimeoutMs / 1000} s:\n${logs}`),
        ),
      options.listenTimeoutMs,
    );
    proc.stderr!.on('data', (d: string) => {
      logs += d;
      // The whole line, so a chunk ending mid-line cannot hide the grpc address.
      const m = /listening http=(\S+)([^\n]*)\n/.exec(logs);
      if (m) {
        clearTimeout(timer);
        resolve([m[1]!, /\bgrpc=(\S+)/.exec(m[2]!)?.[1] ?? '']);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.what} exited with ${code} before listening:\n${logs}`));
    });
  });
  return {
    url,
    grpcAddress,
    proc,
    logs: () => logs,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/**
 * Starts `flotilla serve` (the real CLI) on free HTTP and gRPC ports and resolves once it is ready
 * (or once it listens, with `waitReady: false`).
 */
export async function startServe(
  args: readonly string[],
  options: { waitReady?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<FlotillaProcess> {
  const handle = await startCli(['serve', '--http-port', '0', '--grpc-port', '0', ...args], {
    ...(options.env ? { env: options.env } : {}),
    listenTimeoutMs: 30_000,
    what: 'flotilla',
  });
  const { url } = handle;
  if (options.waitReady ?? true) {
    await waitFor(async () => (await fetch(`${url}/v2/health/ready`)).status === 200, 60_000, 'server ready');
  }
  return handle;
}

/** Polls a condition until it holds or the timeout passes. */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // Not up yet: keep polling until the deadline.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
