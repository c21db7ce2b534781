/**
 * bench/dashboard: what an open dashboard costs the gateway. One `flotilla up` (a `command:`
 * variant of the fixture replica answering at once, two replicas pinned); closed-loop requests/s
 * through the gateway with no dashboard open, and with the dashboard open and streaming in
 * headless Chromium (Debian's chromium, signed in, a frame a second redrawing six charts), in
 * alternating rounds; and with only the page's event stream read by a plain client (the gateway's
 * own share). The browser runs on the same machine, so its drawing competes for the cores too: the
 * page figure is an upper bound. Medians of the rounds; ratios against closed, ranges in brackets.
 * Writes bench/results/dashboard.{json,md}.
 *
 *   npm run build && node dist/bench/dashboard.js [--rounds 5] [--seconds 4] [--concurrency 16]
 */
import { chromium } from 'playwright-core';
import { Pool, request } from 'undici';
import { runClosedLoop } from '../src/bench/index.js';
import { replicaCommand, startUp, TOKEN, tempDir, writeFile } from '../test/fixtures/up/up-helpers.js';
import { waitFor } from '../test/helpers/flotilla-process.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const rounds = numberArg('rounds', 5);
const seconds = numberArg('seconds', 4);
const concurrency = numberArg('concurrency', 16);
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const PATH = '/v2/models/web/infer';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Row {
  readonly round: number | 'median';
  readonly closedRps: number;
  readonly streamRps: number;
  readonly openRps: number;
  /** stream / closed: the gateway's own cost of a watching dashboard. */
  readonly streamRatio: number;
  /** open / closed: that plus a browser drawing on the same cores. */
  readonly ratio: number;
  readonly streamRange?: string;
  readonly range?: string;
}

async function main(): Promise<void> {
  const tmp = tempDir('bench-dashboard');
  const file = writeFile(
    tmp.dir,
    'web.yaml',
    `services:
  web:
    variants:
      - tag: stable
        command: ${JSON.stringify(replicaCommand('--name stable'))}
        scale: { min: 2, max: 2 }
`,
  );
  const up = await startUp(file);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const url = new URL(up.url);
  const pool = new Pool(up.url, { connections: concurrency });
  try {
    await waitFor(
      async () => (await up.variant('web', 'stable')).scale?.ready === 2,
      20_000,
      'two ready replicas',
    );
    const load = async (): Promise<number> => {
      const r = await runClosedLoop(
        { concurrency, durationMs: seconds * 1000, warmupMs: 500, maxRequests: 2_000_000 },
        async () => {
          const res = await pool.request({
            method: 'POST',
            path: PATH,
            body: '{}',
            headers: { host: url.host },
          });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        },
      );
      if (r.errors > 0) throw new Error(`${r.errors} errors: ${r.firstError}`);
      return r.throughput;
    };
    const withPage = async (): Promise<number> => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      try {
        const page = await context.newPage();
        await page.goto(`${up.url}/_flotilla/ui`);
        await page.fill('#token', TOKEN);
        await page.click('#sign-in-form button[type=submit]');
        await page.waitForSelector('[data-chart="replicas"][data-desired]');
        return await load();
      } finally {
        await context.close();
      }
    };
    // The event stream alone, as a page receives it (signed in, frames read and dropped): what
    // the gateway process spends on a watching dashboard, without a browser's drawing.
    const withStream = async (): Promise<number> => {
      const signIn = await request(`${up.url}/_flotilla/ui/session`, {
        method: 'POST',
        headers: { origin: up.url, 'content-type': 'application/json' },
        body: JSON.stringify({ token: TOKEN }),
      });
      const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
      await signIn.body.dump();
      const controller = new AbortController();
      const stream = await request(`${up.url}/_flotilla/ui/events`, {
        headers: { cookie },
        signal: controller.signal,
      });
      const reading = (async () => {
        for await (const _ of stream.body) {
          // Dropped: only the gateway's side is measured here.
        }
      })().catch(() => undefined);
      try {
        return await load();
      } finally {
        controller.abort();
        await reading;
      }
    };
    const rows: Row[] = [];
    const sides = [load, withStream, withPage];
    for (let i = 0; i < rounds; i++) {
      // Alternate the order, so drift within a round does not favour one side.
      const order = i % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
      const rps: number[] = [0, 0, 0];
      for (const k of order) rps[k] = await sides[k]!();
      const [closedRps, streamRps, openRps] = rps as [number, number, number];
      rows.push({
        round: i + 1,
        closedRps,
        streamRps,
        openRps,
        streamRatio: streamRps / closedRps,
        ratio: openRps / closedRps,
      });
      process.stderr.write(
        `round ${i + 1}: closed ${closedRps.toFixed(0)}/s, stream ${streamRps.toFixed(0)}/s, page ${openRps.toFixed(0)}/s\n`,
      );
    }
    const range = (xs: number[]): string => `[${Math.min(...xs).toFixed(3)}, ${Math.max(...xs).toFixed(3)}]`;
    const ratios = rows.map((r) => r.ratio);
    const streamRatios = rows.map((r) => r.streamRatio);
    rows.push({
      round: 'median',
      closedRps: median(rows.map((r) => r.closedRps)),
      streamRps: median(rows.map((r) => r.streamRps)),
      openRps: median(rows.map((r) => r.openRps)),
      streamRatio: median(streamRatios),
      ratio: median(ratios),
      streamRange: range(streamRatios),
      range: range(ratios),
    });
    writeBenchResults({
      name: 'dashboard',
      description: [
        `Requests/s through \`flotilla up\`'s gateway (two replicas of the fixture replica, answering at once), closed loop of ${concurrency},`,
        'with no dashboard (closed), with its event stream read by a plain client (stream: the gateway side of a watching page),',
        'and with the page open and streaming in headless Chromium on the same machine (page: plus the browser drawing on the same cores);',
        `${rounds} alternating rounds of ${seconds} s per side. Ratios against closed; the median row gives their ranges.`,
        '',
      ],
      columns: [
        { heading: 'round', value: (r) => r.round },
        { heading: 'closed req/s', value: (r) => r.closedRps.toFixed(0), numeric: true },
        { heading: 'stream req/s', value: (r) => r.streamRps.toFixed(0), numeric: true },
        { heading: 'page req/s', value: (r) => r.openRps.toFixed(0), numeric: true },
        {
          heading: 'stream / closed',
          value: (r) => `${r.streamRatio.toFixed(3)}${r.streamRange ? ` ${r.streamRange}` : ''}`,
          numeric: true,
        },
        {
          heading: 'page / closed',
          value: (r) => `${r.ratio.toFixed(3)}${r.range ? ` ${r.range}` : ''}`,
          numeric: true,
        },
      ],
      rows,
      meta: { rounds, secondsPerSide: seconds, concurrency, browser: CHROMIUM },
    });
  } finally {
    await pool.close();
    await browser.close();
    await up.cleanup();
    tmp.cleanup();
  }
}

await main();
