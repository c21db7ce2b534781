/**
 * Probe: soak. Steady mixed traffic for the run's `soakS` seconds: every HTTP front end straight
 * to `serve` and through a `gateway`, gRPC to `serve`, metadata and health reads, from four
 * closed-loop clients. RSS of both processes is sampled; held when nothing fails, every class is
 * right, and the RSS over the second half grows less than the bound (a leak grows steadily).
 */
import { Pool } from 'undici';
import { BOUNDS } from './bounds.js';
import { serveBehindGateway } from './gateway-front.js';
import { exited, type Probe, pollHealth, sleep, watchRss } from './shared.js';
import {
  classOf,
  digits,
  expectedClasses,
  grpcClassOf,
  grpcDigit,
  httpCases,
  rawGrpcClient,
} from './wire.js';

/** The median of some numbers (NaN for none). */
function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length === 0 ? Number.NaN : (v[(v.length - 1) >> 1]! + v[v.length >> 1]!) / 2;
}

/** One row: the soak's failures, wrong answers and second-half RSS growth. */
export const soak: Probe = async ({ scale }) => {
  const fleet = await serveBehindGateway();
  const direct = new Pool(fleet.serve.url, { connections: 4 });
  const viaGateway = new Pool(fleet.gateway.url, { connections: 4 });
  const grpc = rawGrpcClient(fleet.serve.grpcAddress);
  try {
    const sample = digits(16);
    const expected = await expectedClasses(fleet.serve.url, sample);
    const cases = sample.flatMap((d, i) => httpCases(d.pixels).map((c) => ({ c, label: expected[i]! })));
    const grpcCases = sample.map((d, i) => ({ body: grpcDigit(d.pixels), label: expected[i]! }));
    let sent = 0;
    let failed = 0;
    let wrong = 0;
    const one = async (i: number): Promise<void> => {
      sent++;
      const slot = i % 10;
      if (slot === 8) {
        const g = grpcCases[i % grpcCases.length]!;
        const a = await grpc.call('ModelInfer', g.body, 10_000);
        if (a.code !== 0 || !a.reply) failed++;
        else if (grpcClassOf(a.reply) !== g.label) wrong++;
        return;
      }
      const pool = slot % 2 === 0 ? direct : viaGateway;
      if (slot === 9) {
        const res = await pool.request({
          path: i % 20 === 9 ? '/v2/models/mnist' : '/v2/health/ready',
          method: 'GET',
        });
        await res.body.dump();
        if (res.statusCode !== 200) failed++;
        return;
      }
      const { c, label } = cases[i % cases.length]!;
      const res = await pool.request({
        path: c.path,
        method: 'POST',
        body: c.body,
        headers: c.headers,
        headersTimeout: 10_000,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) failed++;
      else if (classOf(JSON.parse(text)) !== label) wrong++;
    };
    const loop = async (k: number, until: number): Promise<void> => {
      for (let i = k; performance.now() < until; i += 4) {
        try {
          await one(i);
        } catch {
          failed++;
        }
      }
    };
    // Warm up first (JIT, pools, first inference), so the figure is the steady state.
    await Promise.all([0, 1, 2, 3].map((k) => loop(k, performance.now() + 2000)));
    sent = failed = wrong = 0;
    const rss = watchRss(() => [fleet.serve.proc.pid!, fleet.gateway.proc.pid!], 500);
    const health = pollHealth(fleet.serve.url);
    const until = performance.now() + scale.soakS * 1000;
    await Promise.all([0, 1, 2, 3].map((k) => loop(k, until)));
    await sleep(100);
    const h = await health.stop();
    const r = rss.stop();
    // Growth over the second half: the median RSS of the last quarter minus that of the second
    // quarter. Medians, because a heap's sawtooth alone swings single samples by 20 MB or more
    // (a peak-minus-middle figure read 7 MB and 25 MB in two runs of the same code).
    const ms = scale.soakS * 1000;
    const quarter = (from: number, to: number): number =>
      median(r.samples.filter(([t]) => t >= from * ms && t < to * ms).map(([, v]) => v));
    const mid = quarter(0.25, 0.5);
    const end = quarter(0.75, 1.01);
    const growth = Math.round(end - mid);
    const crashed = exited(fleet.serve) || exited(fleet.gateway);
    return [
      {
        probe: 'soak',
        sent,
        failed,
        wrong,
        peakRssMb: r.peakRssMb,
        maxEventLoopDelayMs: h.maxMs,
        held: !crashed && failed === 0 && wrong === 0 && growth <= BOUNDS.soak.secondHalfGrowthMb,
        bound: `${scale.soakS} s of mixed traffic (4 HTTP front ends direct and via gateway, gRPC, metadata): 0 failed, 0 wrong, RSS (serve + gateway) growth over the second half (median of the last quarter − median of the second) ≤ ${BOUNDS.soak.secondHalfGrowthMb} MB`,
        detail: `${Math.round(sent / scale.soakS)} req/s; RSS ${Math.round(r.samples[0]?.[1] ?? 0)} MB at the start, medians ${Math.round(mid)} MB (2nd quarter) → ${Math.round(end)} MB (last quarter): growth ${growth} MB${crashed ? '; crashed' : ''}`,
      },
    ];
  } finally {
    grpc.close();
    await direct.close();
    await viaGateway.close();
    await fleet.stop();
  }
};
