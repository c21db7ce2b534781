import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BenchContext,
  type BenchPlan,
  benchCsv,
  benchHtml,
  benchJson,
  benchTable,
  niceTicks,
  type OutcomeCallback,
  reportCharts,
  runBench,
  type Target,
} from '../../src/bench/index.js';
import { seededRandom, systemClock } from '../../src/core/index.js';

/** An in-memory endpoint answering after `delayMs` (0: on the next turn of the loop). */
class FakeTarget implements Target {
  sent = 0;
  constructor(
    readonly name: string,
    private readonly delayMs: number,
    private readonly variant?: string,
  ) {}
  send(_payload: number, done: OutcomeCallback): void {
    this.sent++;
    const answer = () =>
      done({ ok: true, ...(this.variant ? { variant: this.variant, replica: 'r1' } : {}) });
    if (this.delayMs === 0) setImmediate(answer);
    else setTimeout(answer, this.delayMs);
  }
  async close(): Promise<void> {}
}

const basePlan: BenchPlan = {
  mode: { kind: 'sequential', requests: 500 },
  intervalMs: 50,
  maxWindows: 5,
  stability: { windows: 3, tolerance: 0.1 },
  maxInFlight: 1000,
};
const ctx = (plan: BenchPlan, endpoints: string[]): BenchContext => ({
  model: 'm',
  protocol: 'oip',
  endpoints,
  payload: 'random',
  payloads: 1,
  plan,
});

describe('runBench', () => {
  it('sends exactly --requests and records every one in a window', async () => {
    const t = new FakeTarget('fake', 0, 'stable');
    const r = await runBench(basePlan, {
      targets: [t],
      payloads: 1,
      clock: systemClock,
      random: seededRandom(1),
    });
    assert.equal(t.sent, 500);
    assert.equal(r.requests, 500);
    assert.equal(r.sent, 500);
    assert.equal(r.errors, 0);
    assert.equal(
      r.windows.reduce((a, w) => a + w.requests, 0),
      500,
    );
    assert.equal(r.levels.length, 1);
    assert.equal(r.variants.get('stable')!.replicas.get('r1')!.requests, 500);
  });

  it('switches to the next endpoint when a window violates the SLO, and reports it', async () => {
    const plan: BenchPlan = {
      ...basePlan,
      mode: { kind: 'closed', levels: [4] },
      levelDurationMs: 400,
      latencyThresholdMs: 15,
      maxViolationRate: 0.2,
    };
    const slow = new FakeTarget('slow', 30);
    const fast = new FakeTarget('fast', 0);
    const r = await runBench(plan, {
      targets: [slow, fast],
      payloads: 1,
      clock: systemClock,
      random: seededRandom(1),
    });
    assert.equal(r.events.length, 1);
    const e = r.events[0]!;
    assert.equal(e.kind, 'endpoint-switch');
    if (e.kind === 'endpoint-switch') {
      assert.equal(e.from, 'slow');
      assert.equal(e.to, 'fast');
      assert.equal(e.window, 0);
      assert.ok(e.violationRate > 0.9);
    }
    // A window names the endpoint that served it; the switch shows from the next one on.
    assert.equal(r.windows[0]!.endpoint, 0);
    assert.equal(r.windows[1]!.endpoint, 1);
    assert.ok(fast.sent > slow.sent);
    assert.equal(r.endpoints[0]!.requests + r.endpoints[1]!.requests, r.requests);
  });

  it('keeps an open loop to its rate whatever the answers take', async () => {
    const plan: BenchPlan = {
      ...basePlan,
      mode: { kind: 'open', levels: [400], distribution: 'constant' },
      levelDurationMs: 500,
    };
    const r = await runBench(plan, {
      targets: [new FakeTarget('slow', 40)],
      payloads: 1,
      clock: systemClock,
      random: seededRandom(1),
    });
    // A loaded machine may end the level late; the rate over the time it ran still holds.
    const level = r.levels[0]!;
    assert.ok(Math.abs(level.sendRate - 400) / 400 < 0.02, `send rate ${level.sendRate}`);
    assert.ok(r.sent >= 198, `sent ${r.sent}`);
    // Answers take 40 ms, yet the generator never waited for them: 16 were in flight at a time.
    assert.equal(r.requests, r.sent);
    assert.ok(r.latency.p50Ms >= 40);
  });

  it('leaves the warm-up of each level out of its windows', async () => {
    /** Slow for its first 150 ms (cold), fast after. */
    let slowUntil = 0;
    const target: Target = {
      name: 'cold',
      send(_p, done) {
        setTimeout(() => done({ ok: true }), performance.now() < slowUntil ? 60 : 1);
      },
      async close() {},
    };
    const plan: BenchPlan = {
      ...basePlan,
      mode: { kind: 'open', levels: [200], distribution: 'constant' },
      levelDurationMs: 300,
      warmupMs: 200,
    };
    slowUntil = performance.now() + 150;
    const started = performance.now();
    const r = await runBench(plan, {
      targets: [target],
      payloads: 1,
      clock: systemClock,
      random: seededRandom(1),
    });
    assert.ok(performance.now() - started >= 500, 'the warm-up comes before the measured 300 ms');
    assert.ok(r.latency.maxMs < 60, `no cold answer was measured (max ${r.latency.maxMs} ms)`);
    assert.ok(r.requests >= 50 && r.requests < 80, `about 300 ms at 200/s measured: ${r.requests}`);
  });

  it('feeds the reports: JSON fields, CSV rows, a self-contained HTML page, a table', async () => {
    const plan: BenchPlan = {
      ...basePlan,
      mode: { kind: 'closed', levels: [1, 2], requests: 100 },
      latencyThresholdMs: 50,
    };
    const r = await runBench(plan, {
      targets: [new FakeTarget('http://x', 0, 'canary')],
      payloads: 1,
      clock: systemClock,
      random: seededRandom(1),
    });
    const c = ctx(plan, ['http://x']);
    const json = benchJson(r, c);
    for (const key of [
      'throughput',
      'latency_ms',
      'requests',
      'errors',
      'windows',
      'variants',
      'events',
      'levels',
      'percentiles',
    ])
      assert.ok(key in json, key);
    assert.deepEqual(Object.keys(json['latency_ms'] as object), ['mean', 'p50', 'p90', 'p95', 'p99', 'max']);
    assert.equal(json['requests'], 200);
    assert.equal((json['variants'] as { variant: string }[])[0]!.variant, 'canary');
    assert.equal('accuracy' in json, false);
    const csv = benchCsv(r, c).trim().split('\n');
    assert.equal(csv.length, 3);
    assert.match(csv[0]!, /^concurrency,stable,windows,requests,errors,throughput/);
    const html = benchHtml(r, c);
    assert.ok(html.startsWith('<!doctype html>'));
    // Self-contained: uPlot and the dashboard's chart code inlined, nothing fetched.
    assert.equal((html.match(/<div class="chart" id="chart-\d+">/g) ?? []).length, 5);
    assert.doesNotMatch(html, /<link|<script[^>]*\ssrc=|@import|url\(/i);
    assert.match(html, /globalThis\.FlotillaCharts/);
    const charts = reportCharts(r, c);
    assert.deepEqual(
      charts.map((x) => x.title),
      [
        'Latency per window',
        'Throughput per window',
        'Latency by percentile (whole run)',
        'Throughput by concurrency',
        'p99 latency by concurrency',
      ],
    );
    // Level markers and the windows table name the concurrency, not the level's index.
    assert.ok(
      charts[0]!.markers!.every((m) => /^concurrency \d+$/.test(m.label)),
      JSON.stringify(charts[0]!.markers),
    );
    const firstRow = /<tr><td>(\d+)<\/td><td>1<\/td>/.exec(html.slice(html.indexOf('<h2>Windows</h2>')));
    assert.equal(Number(firstRow?.[1]), r.levels[0]!.value);
    assert.match(benchTable(r, c), /concurrency\s+req\/s/);
  });
});

describe('niceTicks', () => {
  const cases: [number, number, number[]][] = [
    [0, 10, [0, 2, 4, 6, 8, 10]],
    [0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [0, 730, [0, 200, 400, 600]],
    [5, 5, [5]],
  ];
  for (const [lo, hi, want] of cases) it(`${lo}..${hi}`, () => assert.deepEqual(niceTicks(lo, hi), want));
});
