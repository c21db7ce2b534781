/**
 * Probe: deep nesting (issue 19, finding 5). JSON nested 1e5 deep in `data`, in `parameters`, in
 * TF Serving's `instances` and in Paddle's `feed`: each must be a 4xx, never a 5xx. Then the same
 * through `flotilla up` (two replicas): a dozen such requests must not get a replica ejected (5xx
 * count toward ejection; 4xx must not), and normal requests must still be answered.
 */
import { BOUNDS } from './bounds.js';
import {
  exited,
  type Probe,
  type ProbeResult,
  pollHealth,
  serveMnist,
  sleep,
  stopQuietly,
  watchRss,
} from './shared.js';
import { upWithTwoReplicas } from './up-fleet.js';
import { classOf, digits, expectedClasses, httpCases, postHead, rawExchange } from './wire.js';

const nested = (depth: number): string => `${'['.repeat(depth)}0${']'.repeat(depth)}`;
const nestedObject = (depth: number): string => `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;

/** The deep bodies, by front end. */
function deepCases(depth: number): { name: string; path: string; body: Buffer }[] {
  const image = (rest: string) => `{"inputs":[{"name":"image","datatype":"FP32","shape":[1,784],${rest}}]}`;
  return [
    { name: 'oip data', path: '/v2/models/mnist/infer', body: Buffer.from(image(`"data":${nested(depth)}`)) },
    {
      name: 'oip parameters',
      path: '/v2/models/mnist/infer',
      body: Buffer.from(
        image(`"data":[${new Array(784).fill(0).join(',')}],"parameters":${nestedObject(depth)}`),
      ),
    },
    {
      name: 'tfserving instances',
      path: '/v1/models/mnist:predict',
      body: Buffer.from(`{"instances":${nested(depth)}}`),
    },
    {
      name: 'paddle feed',
      path: '/mnist/prediction',
      body: Buffer.from(`{"feed":[{"image":${nested(depth)}}],"fetch":["probs"]}`),
    },
  ];
}

const send = (url: string, c: { path: string; body: Buffer }) =>
  rawExchange(url, postHead(c.path, c.body.length), c.body, 15_000);

/** Rows deep-nesting-serve (every front end) and deep-nesting-up (ejection through `up`). */
export const deepNesting: Probe = async ({ scale }) => {
  const cases = deepCases(scale.nestingDepth);
  const rows: ProbeResult[] = [];
  const server = await serveMnist();
  try {
    const rss = watchRss(() => [server.proc.pid!]);
    const health = pollHealth(server.url);
    const answers = [];
    for (const c of cases) answers.push({ name: c.name, a: await send(server.url, c) });
    const h = await health.stop();
    const r = rss.stop();
    const failed = answers.filter((x) => !(x.a.status >= 400 && x.a.status < 500));
    rows.push({
      probe: 'deep-nesting-serve',
      sent: answers.length,
      failed: failed.length + (exited(server) ? 1 : 0),
      wrong: 0,
      peakRssMb: r.peakRssMb,
      maxEventLoopDelayMs: h.maxMs,
      held: failed.length === 0 && !exited(server),
      bound: `JSON nested ${scale.nestingDepth} deep in OIP data, OIP parameters, TF Serving instances, Paddle feed: 4xx each`,
      detail: answers.map((x) => `${x.name} ${x.a.status || x.a.error}`).join(', '),
    });
  } finally {
    await stopQuietly(server);
  }

  const fleet = await upWithTwoReplicas();
  try {
    const sample = digits(8);
    const expected = await expectedClasses(fleet.up.url, sample);
    const rss = watchRss(fleet.pids, 100);
    const health = pollHealth(fleet.up.url);
    const deep = cases[0]!;
    const statuses: number[] = [];
    for (let i = 0; i < scale.nestingThroughUp; i++) statuses.push((await send(fleet.up.url, deep)).status);
    // Ejection follows the answers; look for a moment.
    let unhealthy = 0;
    for (let i = 0; i < 8; i++) {
      unhealthy = Math.max(unhealthy, (await fleet.replicas()).unhealthy);
      await sleep(250);
    }
    let normalFailed = 0;
    let wrong = 0;
    for (const [i, d] of sample.entries()) {
      const c = httpCases(d.pixels)[0]!;
      const a = await fetch(`${fleet.up.url}${c.path}`, { method: 'POST', body: c.body, headers: c.headers });
      if (a.status !== 200) normalFailed++;
      else if (classOf(await a.json()) !== expected[i]) wrong++;
    }
    const h = await health.stop();
    const r = rss.stop();
    const not4xx = statuses.filter((s) => !(s >= 400 && s < 500)).length;
    rows.push({
      probe: 'deep-nesting-up',
      sent: statuses.length + sample.length,
      failed: not4xx + normalFailed,
      wrong,
      peakRssMb: r.peakRssMb,
      maxEventLoopDelayMs: h.maxMs,
      held: not4xx === 0 && unhealthy <= BOUNDS.nesting.ejectedReplicas && normalFailed === 0,
      bound: `${scale.nestingThroughUp} deep requests through flotilla up (2 replicas): all 4xx, ${BOUNDS.nesting.ejectedReplicas} replicas ejected, then normal requests answered`,
      detail: `statuses ${[...new Set(statuses)].join('/')}; ${unhealthy} replica(s) unhealthy or ejected; normal ${sample.length - normalFailed}/${sample.length}`,
    });
  } finally {
    await fleet.stop();
  }
  return rows;
};
