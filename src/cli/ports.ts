/**
 * A port already taken is an operator's mistake, not a crash: one line naming the flag to change.
 * Commands check their fixed ports before they start anything (model loads in worker threads,
 * replicas), so a busy port costs nothing to undo; the real listen can still lose a race, and
 * `asPortError` turns that failure into the same line.
 */
import { createServer } from 'node:net';
import { UsageError } from '../core/index.js';

/** A port a command will listen on, and the flag that sets it. */
export interface PortFlag {
  readonly port: number | undefined;
  readonly flag: string;
}

const CODES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'is in use',
  EACCES: 'needs privileges this user lacks',
  EADDRNOTAVAIL: 'cannot be bound: the address is not on this machine',
};

function portMessage(code: string | undefined, host: string, port: number, flag: string): string | undefined {
  const what = code === undefined ? undefined : CODES[code];
  if (what === undefined) return undefined;
  return code === 'EADDRNOTAVAIL' ? `${host}:${port} (${flag}) ${what}` : `port ${port} (${flag}) ${what}`;
}

/** The error code inside a listen failure; grpc-js only quotes it in its message. */
function listenCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && e.code in CODES) return e.code;
  const m = typeof e?.message === 'string' ? /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(e.message) : null;
  return m?.[1];
}

/** A listen failure as a one-line UsageError naming the flag, or the error itself when it is not one. */
export function asPortError(err: unknown, host: string, port: number, flag: string): unknown {
  const message = portMessage(listenCode(err), host, port, flag);
  return message === undefined ? err : new UsageError(flag, message, { cause: err });
}

function tryListen(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * Throws a UsageError for the first fixed port (not 0, not undefined) that cannot be bound on
 * `host`. Two flags naming the same port are refused too: the second listen would fail.
 */
export async function checkPorts(host: string, ports: readonly PortFlag[]): Promise<void> {
  const seen = new Map<number, string>();
  for (const { port, flag } of ports) {
    if (port === undefined || port === 0) continue;
    const other = seen.get(port);
    if (other !== undefined) throw new UsageError(flag, `port ${port} (${flag}) is also given to ${other}`);
    seen.set(port, flag);
    try {
      await tryListen(host, port);
    } catch (err) {
      throw asPortError(err, host, port, flag);
    }
  }
}

/** The ports `flotilla up` listens on, with their flags (`--grpc-port`, `--admin-port`: optional). */
export function upPorts(options: {
  readonly port: number;
  readonly grpcPort?: number | undefined;
  readonly adminPort?: number | undefined;
}): PortFlag[] {
  return [
    { port: options.port, flag: '--port' },
    { port: options.grpcPort, flag: '--grpc-port' },
    { port: options.adminPort, flag: '--admin-port' },
  ];
}
