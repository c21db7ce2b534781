/**
 * Probe: slowloris (issue 19, finding 4). Many connections each sending one more header byte
 * every second, never finishing the head, to `serve` and to `gateway`, while a normal client keeps
 * classifying digits on new connections. Held when the server cuts every slow connection (a header
 * deadline) within the run's wait and the normal client stays answered and fast.
 */
import { connect, type Socket } from 'node:net';
import { BOUNDS } from './bounds.js';
import { serveBehindGateway } from './gateway-front.js';
import { exited, type Probe, type ProbeResult, pollHealth, sleep, watchRss } from './shared.js';
import { digits, httpCases, postHead, rawExchange } from './wire.js';

interface SlowConnection {
  readonly socket: Socket;
  readonly openedAt: number;
  cutAt?: number;
}

/** Opens `n` connections that start a request head and never finish it. */
function openSlow(url: string, n: number): SlowConnection[] {
  const { hostname, port } = new URL(url);
  return Array.from({ length: n }, () => {
    const socket = connect({ host: hostname, port: Number(port) });
    const c: SlowConnection = { socket, openedAt: performance.now() };
    socket.on('error', () => {});
    // Closed by the other end (FIN or reset): cut.
    socket.on('close', () => (c.cutAt ??= performance.now()));
    socket.write('GET /v2/health/live HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ');
    return c;
  });
}

/** A normal client: one digit on a new connection every `everyMs`, its slowest answer and failures. */
function normalClient(
  url: string,
  everyMs: number,
): { stop(): Promise<{ sent: number; failed: number; maxMs: number }> } {
  const c = httpCases(digits(1)[0]!.pixels)[0]!;
  const head = postHead(c.path, c.body.length, c.headers);
  let running = true;
  let sent = 0;
  let failed = 0;
  let maxMs = 0;
  const loop = (async () => {
    while (running) {
      sent++;
      const a = await rawExchange(url, head, c.body, 10_000);
      if (a.status !== 200) failed++;
      maxMs = Math.max(maxMs, a.ms);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { sent, failed, maxMs: Math.round(maxMs) };
    },
  };
}

/** Rows slowloris-serve and slowloris-gateway, both attacked at once. */
export const slowloris: Probe = async ({ scale }) => {
  const fleet = await serveBehindGateway(scale.slowlorisServeArgs, scale.slowlorisGatewayArgs);
  try {
    const targets = [
      { name: 'slowloris-serve', proc: fleet.serve },
      { name: 'slowloris-gateway', proc: fleet.gateway },
    ];
    const watched = targets.map((t) => ({
      ...t,
      rss: watchRss(() => [t.proc.proc.pid!], 100),
      health: pollHealth(t.proc.url),
      slow: openSlow(t.proc.url, scale.slowConnections),
      normal: normalClient(t.proc.url, 250),
    }));
    const all = watched.flatMap((w) => w.slow);
    const drip = setInterval(() => {
      for (const c of all) if (c.cutAt === undefined && !c.socket.destroyed) c.socket.write('a');
    }, 1000);
    const deadline = performance.now() + scale.slowlorisWaitS * 1000;
    while (performance.now() < deadline && all.some((c) => c.cutAt === undefined)) await sleep(250);
    clearInterval(drip);
    const rows: ProbeResult[] = [];
    for (const w of watched) {
      const normal = await w.normal.stop();
      const h = await w.health.stop();
      const r = w.rss.stop();
      const cut = w.slow.filter((c) => c.cutAt !== undefined);
      const cutS = cut.map((c) => (c.cutAt! - c.openedAt) / 1000).sort((a, b) => a - b);
      const median = cutS[Math.floor(cutS.length / 2)];
      const crashed = exited(w.proc);
      const uncut = w.slow.length - cut.length;
      rows.push({
        probe: w.name,
        sent: w.slow.length + normal.sent,
        failed: uncut + normal.failed,
        wrong: 0,
        peakRssMb: r.peakRssMb,
        maxEventLoopDelayMs: h.maxMs,
        held:
          !crashed && uncut === 0 && normal.failed === 0 && normal.maxMs <= BOUNDS.slowloris.normalLatencyMs,
        bound: `${w.slow.length} slow heads (1 byte/s) all cut within ${scale.slowlorisWaitS} s; a normal client on new connections answered, ≤ ${BOUNDS.slowloris.normalLatencyMs} ms`,
        detail: `${cut.length}/${w.slow.length} cut${median === undefined ? '' : ` (median ${median.toFixed(1)} s)`}; normal ${normal.sent - normal.failed}/${normal.sent} answered, slowest ${normal.maxMs} ms${crashed ? '; crashed' : ''}`,
      });
    }
    for (const c of all) c.socket.destroy();
    return rows;
  } finally {
    await fleet.stop();
  }
};
