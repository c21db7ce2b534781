/**
 * Worker thread of the reliability suite: polls `GET <url>/v2/health/live` over one keep-alive
 * connection, one poll at a time, a pause between polls, and reports the slowest poll. A poll
 * still waiting when asked to stop counts with the time it has waited. Run in its own thread so
 * the probe's own work (building bodies, parsing answers) cannot inflate the figure.
 */
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

/** What the worker is started with. */
export interface HealthPollerData {
  readonly url: string;
  readonly intervalMs: number;
}

/** What the worker answers to `stop`. */
export interface HealthPollerReport {
  readonly polls: number;
  readonly errors: number;
  readonly maxMs: number;
}

const { url, intervalMs } = workerData as HealthPollerData;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let polls = 0;
let errors = 0;
let maxMs = 0;
let pendingSince: number | undefined;
let stopped = false;

function pollOnce(): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    pendingSince = t0;
    const done = (ok: boolean): void => {
      if (pendingSince === undefined) return;
      pendingSince = undefined;
      polls++;
      if (!ok) errors++;
      maxMs = Math.max(maxMs, performance.now() - t0);
      resolve();
    };
    const req = request(`${url}/v2/health/live`, { agent }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
      res.on('error', () => done(false));
    });
    req.on('error', () => done(false));
    req.end();
  });
}

parentPort!.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  stopped = true;
  if (pendingSince !== undefined) maxMs = Math.max(maxMs, performance.now() - pendingSince);
  const report: HealthPollerReport = { polls, errors, maxMs: Math.round(maxMs) };
  parentPort!.postMessage(report);
  agent.destroy();
  process.exit(0);
});

while (!stopped) {
  await pollOnce();
  await new Promise((r) => setTimeout(r, intervalMs));
}
