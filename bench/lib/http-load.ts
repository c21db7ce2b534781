import type { ConnectionOptions } from 'node:tls';
import { type ClosedLoopResult, encodeHttpRequest, HttpPool, runClosedLoop } from '../../src/bench/index.js';

/** One POST to send over and over. */
export interface HttpLoad {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * A closed loop of `concurrency` users sending the same request through `flotilla bench`'s own
 * HTTP pool (pre-encoded bytes, one write per request, wrk-like): the generator costs the machine
 * less than a general-purpose client, so more of it is left to the server measured. The served
 * rows and the HTTP floor use this same generator.
 */
export async function closedLoopHttp(
  url: string,
  load: HttpLoad,
  concurrency: number,
  durationMs: number,
  /** For an `https://` url: the trust settings (CA) of the TLS connections. */
  tls?: ConnectionOptions,
): Promise<ClosedLoopResult> {
  const u = new URL(url);
  const pool = new HttpPool({
    ...(tls ? { tls } : {}),
    host: u.hostname,
    port: Number(u.port),
    connections: concurrency,
    pipelining: 1,
    timeoutMs: 30_000,
    keepBody: false,
    capture: [],
  });
  const bytes = encodeHttpRequest({
    method: 'POST',
    path: load.path,
    host: u.host,
    headers: load.headers,
    body: load.body,
  });
  try {
    return await runClosedLoop(
      // Connections opening and JIT compiling on both sides are left out of the figure.
      { concurrency, durationMs, warmupMs: 500 },
      () =>
        new Promise<void>((resolve, reject) =>
          pool.send(bytes, (err, reply) => {
            if (err) reject(err);
            else if (reply!.status !== 200)
              reject(new Error(`HTTP ${reply!.status}: ${reply!.body?.toString('utf8')}`));
            else resolve();
          }),
        ),
    );
  } finally {
    await pool.close();
  }
}
