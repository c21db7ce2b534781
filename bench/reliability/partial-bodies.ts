/**
 * Probe: partial bodies (issue 19, finding 3). Connections each send most of a large declared
 * body (60 of 64 MiB) and stall, while a normal client keeps classifying digits. A server-wide
 * bound on buffered request bytes (a clear 503 past it) or a body progress deadline keeps memory
 * flat; without, every stalled body is held (issue: 146 MB → 1.3 GB with 20 of them).
 */
import { connect, type Socket } from 'node:net';
import { BOUNDS } from './bounds.js';
import { exited, mb, type Probe, pollHealth, serveMnist, sleep, stopQuietly, watchRss } from './shared.js';
import { digits, httpCases, postHead, rawExchange } from './wire.js';

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(MiB);

/** Sends the head and `sentMiB` MiB of a `declaredMiB` MiB body, then stalls; resolves when done or cut. */
async function stallAfter(
  url: string,
  sentMiB: number,
  declaredMiB: number,
  giveUpAt: number,
): Promise<{ socket: Socket; sentMiB: number; cut: boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let cut = false;
  socket.on('error', () => {});
  socket.on('close', () => (cut = true));
  socket.resume(); // read (and drop) any early answer, so the server is never held by us
  socket.write(postHead('/v2/models/mnist/infer', declaredMiB * MiB, { 'content-type': 'application/json' }));
  let sent = 0;
  while (sent < sentMiB && !cut && performance.now() < giveUpAt) {
    if (!socket.write(CHUNK))
      await Promise.race([
        new Promise((r) => socket.once('drain', r)),
        sleep(Math.max(0, giveUpAt - performance.now())),
      ]);
    sent++;
  }
  return { socket, sentMiB: sent, cut };
}

/** One row: stalled partial bodies against `serve`, with a normal client beside them. */
export const partialBodies: Probe = async ({ scale }) => {
  const server = await serveMnist();
  try {
    const digit = httpCases(digits(1)[0]!.pixels)[0]!;
    const head = postHead(digit.path, digit.body.length, digit.headers);
    const rss = watchRss(() => [server.proc.pid!], 50);
    const health = pollHealth(server.url);
    let normalSent = 0;
    let normalFailed = 0;
    let normalMax = 0;
    let running = true;
    const normal = (async () => {
      while (running) {
        normalSent++;
        const a = await rawExchange(server.url, head, digit.body, 10_000);
        if (a.status !== 200) normalFailed++;
        normalMax = Math.max(normalMax, a.ms);
        await sleep(250);
      }
    })();
    const giveUpAt = performance.now() + 20_000;
    const conns = await Promise.all(
      Array.from({ length: scale.partialConnections }, () =>
        stallAfter(server.url, scale.partialSentMiB, scale.partialDeclaredMiB, giveUpAt),
      ),
    );
    // Stalled: hold them a moment so the figure is the steady state, not a transient.
    await sleep(2000);
    running = false;
    await normal;
    const h = await health.stop();
    const r = rss.stop();
    const cut = conns.filter((c) => c.socket.destroyed || c.cut).length;
    const sentMiB = conns.reduce((s, c) => s + c.sentMiB, 0);
    for (const c of conns) c.socket.destroy();
    const crashed = exited(server) || r.killed.length > 0;
    const B = BOUNDS.partial;
    return [
      {
        probe: 'partial-bodies',
        sent: conns.length + normalSent,
        failed: normalFailed + (crashed ? 1 : 0),
        wrong: 0,
        peakRssMb: r.peakRssMb,
        maxEventLoopDelayMs: h.maxMs,
        held:
          !crashed && r.extraRssMb <= B.rssGrowthMb && normalFailed === 0 && normalMax <= B.normalLatencyMs,
        bound: `${scale.partialConnections} × ${scale.partialSentMiB} of ${scale.partialDeclaredMiB} MiB then stall: RSS growth ≤ ${B.rssGrowthMb} MB; a normal client answered ≤ ${B.normalLatencyMs} ms`,
        detail: `${sentMiB} MiB sent, ${cut} connections cut, +${mb(r.extraRssMb)}; normal ${normalSent - normalFailed}/${normalSent}, slowest ${Math.round(normalMax)} ms${crashed ? '; crashed' : ''}`,
      },
    ];
  } finally {
    await stopQuietly(server);
  }
};
