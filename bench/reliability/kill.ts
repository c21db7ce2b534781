/**
 * Probe: kill (issue 19: "SIGKILL/SIGSTOP of replicas under load lost nothing"). Closed-loop
 * digit classification through `flotilla up` with two replicas; one replica is SIGKILLed, later
 * the other is SIGSTOPped for a while and SIGCONTinued. Held when no request fails (the gateway
 * retries elsewhere, `up` restarts the dead one) and every answer is the right class.
 */
import { send } from '../../test/fixtures/up/up-helpers.js';
import { BOUNDS } from './bounds.js';
import { type Probe, pollHealth, sleep, watchRss } from './shared.js';
import { upWithTwoReplicas } from './up-fleet.js';
import { classOf, digits, expectedClasses } from './wire.js';

/** One row: load through `up` while one replica is killed and the other stopped and continued. */
export const kill: Probe = async ({ scale, short }) => {
  const fleet = await upWithTwoReplicas();
  try {
    const sample = digits(16);
    const expected = await expectedClasses(fleet.up.url, sample);
    const bodies = sample.map((d) =>
      JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784], data: d.pixels }] }),
    );
    const rss = watchRss(fleet.pids, 100);
    const health = pollHealth(fleet.up.url);
    let sent = 0;
    let failed = 0;
    let wrong = 0;
    const errors = new Map<string, number>();
    let running = true;
    const loops = Array.from({ length: 6 }, async (_, k) => {
      for (let i = k; running; i++) {
        const j = i % sample.length;
        sent++;
        const o = await send(fleet.up.url, { path: '/v2/models/mnist/infer', body: bodies[j]! });
        if (o.status !== 200) {
          failed++;
          const key = o.error ?? String(o.status);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        } else if (classOf(JSON.parse(o.body)) !== expected[j]) wrong++;
      }
    });
    const total = scale.killLoadS * 1000;
    const stopMs = short ? 2000 : 4000;
    const [first, second] = (await fleet.replicas()).ready;
    await sleep(total * 0.15);
    if (first?.pid) process.kill(first.pid, 'SIGKILL');
    await sleep(total * 0.35);
    if (second?.pid) process.kill(second.pid, 'SIGSTOP');
    await sleep(stopMs);
    if (second?.pid) process.kill(second.pid, 'SIGCONT');
    await sleep(Math.max(0, total * 0.5 - stopMs));
    running = false;
    await Promise.all(loops);
    const h = await health.stop();
    const r = rss.stop();
    return [
      {
        probe: 'kill',
        sent,
        failed,
        wrong,
        peakRssMb: r.peakRssMb,
        maxEventLoopDelayMs: h.maxMs,
        held: failed <= BOUNDS.kill.failed && wrong === 0,
        bound: `${scale.killLoadS} s of 6-client load through flotilla up (2 replicas), one SIGKILLed, the other SIGSTOPped ${stopMs / 1000} s: failed ≤ ${BOUNDS.kill.failed}, wrong 0`,
        detail: `${sent - failed}/${sent} answered${errors.size > 0 ? `; failures: ${[...errors].map(([k, n]) => `${n} × ${k}`).join(', ')}` : ''}`,
      },
    ];
  } finally {
    await fleet.stop();
  }
};
