/**
 * Probe: unread answers (issue 19, finding 2). A client pipelines batch-64 inference requests on
 * one connection as fast as the socket takes them and never reads an answer, to `serve` and then to
 * a `gateway` in front of it. With backpressure the server stops reading, the client's writes
 * stall, and memory stays flat; without, it buffers requests and answers (issue: 1.2 GB).
 */
import { connect } from 'node:net';
import { BOUNDS } from './bounds.js';
import { serveBehindGateway } from './gateway-front.js';
import { exited, mb, type Probe, type ProbeResult, pollHealth, rssOf, sleep, watchRss } from './shared.js';
import { digits, httpCases, postHead, rawExchange } from './wire.js';

const MiB = 1024 * 1024;

/** 64 digits as one binary request (≈200 KiB), its full bytes with the head. */
function batchRequest(): Buffer {
  const pixels = digits(64).flatMap((d) => d.pixels);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'image',
          datatype: 'FP32',
          shape: [64, 784],
          parameters: { binary_data_size: pixels.length * 4 },
        },
      ],
    }),
  );
  const body = Buffer.concat([header, Buffer.from(Float32Array.from(pixels).buffer)]);
  const head = postHead('/v2/models/mnist/infer', body.length, {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(header.length),
  });
  return Buffer.concat([Buffer.from(head), body]);
}

/** Pipelines `request` for `seconds` or until `maxBytes` are written; never reads. */
async function pipelineUnread(
  url: string,
  request: Buffer,
  seconds: number,
  maxBytes: number,
): Promise<{ sent: number; destroy(): void }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.on('error', () => {});
  socket.pause();
  await new Promise((r) => socket.once('connect', r));
  const until = performance.now() + seconds * 1000;
  let sent = 0;
  while (performance.now() < until && sent * request.length < maxBytes && !socket.destroyed) {
    if (!socket.write(request)) {
      // Wait for room, but no longer than the run: a server applying backpressure never drains.
      await Promise.race([
        new Promise((r) => socket.once('drain', r)),
        sleep(Math.max(0, until - performance.now())),
      ]);
    }
    sent++;
  }
  return { sent, destroy: () => socket.destroy() };
}

/** Rows unread-answers-serve and unread-answers-gateway. */
export const unreadAnswers: Probe = async ({ scale, short }) => {
  const request = batchRequest();
  const digit = httpCases(digits(1)[0]!.pixels)[0]!;
  const rows: ProbeResult[] = [];
  // The short run saves a start by sharing one pair: serve first, then the gateway (whose own
  // process is still fresh); the full run starts a fresh pair per target.
  const shared = short ? await serveBehindGateway() : undefined;
  try {
    for (const target of ['serve', 'gateway'] as const) {
      const fleet = shared ?? (await serveBehindGateway());
      try {
        const proc = target === 'serve' ? fleet.serve : fleet.gateway;
        const rss = watchRss(() => [proc.proc.pid!], 50);
        const health = pollHealth(proc.url);
        const client = await pipelineUnread(proc.url, request, scale.unreadS, scale.unreadMaxMiB * MiB);
        await sleep(1000);
        const h = await health.stop();
        const r = rss.stop();
        client.destroy();
        await sleep(1000);
        const left = Math.round(rssOf(proc.proc.pid!)?.rssMb ?? 0);
        // Answered again once the client has left?
        const a = await rawExchange(
          proc.url,
          postHead(digit.path, digit.body.length, digit.headers),
          digit.body,
          10_000,
        );
        const crashed = exited(proc) || r.killed.length > 0;
        const limit = target === 'serve' ? BOUNDS.unread.serverRssGrowthMb : BOUNDS.unread.gatewayRssGrowthMb;
        const sentMiB = Math.round((client.sent * request.length) / MiB);
        rows.push({
          probe: `unread-answers-${target}`,
          sent: client.sent + 1,
          failed: a.status === 200 ? 0 : 1,
          wrong: 0,
          peakRssMb: r.peakRssMb,
          maxEventLoopDelayMs: h.maxMs,
          held: !crashed && a.status === 200 && r.extraRssMb <= limit,
          bound: `pipelined batch-64 requests never read (≤ ${scale.unreadMaxMiB} MiB in ${scale.unreadS} s): ${target} RSS growth ≤ ${limit} MB, then a normal request answered`,
          detail: `${client.sent} requests (${sentMiB} MiB) written, +${mb(r.extraRssMb)}, ${mb(left)} 1 s after the client left; then HTTP ${a.status || a.error}${crashed ? '; crashed' : ''}`,
        });
      } finally {
        if (!shared) await fleet.stop();
      }
    }
  } finally {
    await shared?.stop();
  }
  return rows;
};
