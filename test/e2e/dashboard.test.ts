/**
 * The live dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core, nothing downloaded) against a real `flotilla up` whose variants are real child
 * processes (the fixture replica). Screenshots go to `screenshots/` (git-ignored) for people to look at.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { request } from 'undici';
import {
  Load,
  replicaCommand,
  send,
  startUp,
  TOKEN,
  tempDir,
  type UpProcess,
  writeFile,
} from '../fixtures/up/up-helpers.js';
import { startServe, waitFor } from '../helpers/flotilla-process.js';
import { CLI, EXAMPLE_MODELS, ROOT } from '../helpers/paths.js';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'screenshots');
const PATH = '/v2/models/web/infer';
/** The stable variant's autoscaling window: its panic window is 10 % of it. */
const STABLE_WINDOW_S = 20;
const PANIC_WINDOW_MS = STABLE_WINDOW_S * 100;

function serviceFile(dir: string): string {
  const scale = `{ min: 1, max: 4, targetConcurrency: 1, stableWindow: ${STABLE_WINDOW_S}s }`;
  return writeFile(
    dir,
    'web.yaml',
    `services:
  web:
    slo: { latencyMs: 500, errorRate: 0.05 }
    rollout: { steps: [20, 50, 100], interval: 30s, minRequests: 5 }
    variants:
      - tag: stable
        weight: 100
        command: ${JSON.stringify(replicaCommand('--name stable --delay 40'))}
        scale: ${scale}
      - tag: canary
        weight: 0
        command: ${JSON.stringify(replicaCommand('--name canary --delay 5'))}
        scale: { min: 1, max: 1 }
`,
  );
}

/** Every URL a context's pages requested, and every console error and uncaught exception. */
function watch(context: BrowserContext): { urls: string[]; errors: string[] } {
  const log = { urls: [] as string[], errors: [] as string[] };
  context.on('request', (r) => log.urls.push(r.url()));
  context.on('page', (p) => attachErrors(p, log.errors));
  return log;
}

function attachErrors(page: Page, errors: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/_flotilla/ui`);
  await page.fill('#token', token);
  await page.click('#sign-in-form button[type=submit]');
}

/** Shares of answers per variant over `n` requests, 8 at a time. */
async function split(url: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        next++;
        const o = await send(url, { path: PATH });
        assert.equal(o.status, 200, `${o.status} ${o.error ?? o.body}`);
        counts[o.variant ?? '-'] = (counts[o.variant ?? '-'] ?? 0) + 1;
      }
    }),
  );
  return Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c / n]));
}

describe('dashboard: flotilla up in headless Chromium', { timeout: 120_000 }, () => {
  const tmp = tempDir('dashboard');
  let up: UpProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let log: { urls: string[]; errors: string[] };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    [up, browser] = await Promise.all([
      startUp(serviceFile(tmp.dir)),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
    ]);
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    log = watch(context);
    page = await context.newPage();
    await waitFor(
      async () =>
        (await up.variant('web', 'stable')).scale?.ready === 1 &&
        (await up.variant('web', 'canary')).scale?.ready === 1,
      20_000,
      'one ready replica per variant',
    );
  });

  after(async () => {
    await browser?.close();
    await up?.cleanup();
    tmp.cleanup();
  });

  it('prints the dashboard in the banner; the page loads signed in, mid-rollout, with no console errors', async () => {
    assert.match(up.stdout(), new RegExp(`dashboard ${up.url}/_flotilla/ui`));
    await signIn(page, up.url, TOKEN);
    await page.waitForSelector('[data-service="web"] [data-controls]');
    await page.waitForSelector('[data-chart="replicas"][data-desired]');
    // The service file's progressive rollout starts with up: the canary at its first step.
    await page.waitForSelector('[data-rollout-phase="progressing"]');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-rollout.png'), fullPage: true });
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'flotilla_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.notEqual(session.value, TOKEN);
    assert.ok(!cookies.some((c) => c.value.includes(TOKEN)), 'no cookie holds the token');
    const html = await page.content();
    assert.ok(!html.includes(TOKEN), 'the token is not in the page');
    assert.deepEqual(log.errors, []);
  });

  it('a load step raises the replica chart within the panic window', async () => {
    const before = Number(await page.getAttribute('[data-chart="replicas"]', 'data-max-desired'));
    assert.equal(before, 1, 'one replica wanted before the load');
    const load = new Load(up.url, PATH, 10);
    const t0 = performance.now();
    try {
      // The chart gets a frame a second; the panic decision needs the panic window's readings.
      // (Polled from here: the page's CSP rightly refuses the string a waitForFunction would eval.)
      await waitFor(
        async () =>
          Number(
            ((await page.getAttribute('[data-chart="replicas"]', 'data-desired')) ?? '0').split(',')[0],
          ) > 1,
        PANIC_WINDOW_MS + 3000,
        'the replica chart to show more than one desired replica',
      );
    } finally {
      await load.stop();
    }
    const riseMs = performance.now() - t0;
    assert.ok(riseMs <= PANIC_WINDOW_MS + 3000, `rose after ${Math.round(riseMs)} ms`);
    assert.ok(
      Number(await page.getAttribute('[data-chart="replicas"]', 'data-panic-bands')) >= 1,
      'the panic period is marked',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-load-step.png'), fullPage: true });
    assert.deepEqual(log.errors, []);
  });

  it("moving the canary's weight in the UI changes the split measured through the gateway", async () => {
    const setCanary = async (weight: number): Promise<void> => {
      await page.fill('[data-controls] [data-weight="canary"]', String(weight));
      assert.equal(
        await page.inputValue('[data-controls] [data-weight-number="stable"]'),
        String(100 - weight),
      );
      await page.click('[data-controls] [data-action="set-weights"]');
      await page.waitForSelector(
        `#message:has-text("weights set: stable ${100 - weight}, canary ${weight}")`,
      );
    };
    await setCanary(0);
    const none = await split(up.url, 100);
    assert.equal(none['canary'] ?? 0, 0, `canary at weight 0 answered ${JSON.stringify(none)}`);
    await setCanary(30);
    const shares = await split(up.url, 400);
    // 400 draws at 30 %: the standard deviation is 2.3 points; 8 points is over 3 of them.
    assert.ok(Math.abs((shares['canary'] ?? 0) - 0.3) < 0.08, `canary share ${JSON.stringify(shares)}`);
    await page.waitForSelector('[data-rollout-phase="manual"]');
    assert.deepEqual(log.errors, []);
  });

  it('rolls back, starts a rollout and promotes the canary from the UI', async () => {
    await page.click('[data-controls] [data-action="rollback"]');
    await page.waitForSelector('[data-rollout-phase="rolled-back"]', { timeout: 15_000 });
    assert.equal((await up.variant('web', 'canary')).weight, 0);
    assert.equal((await split(up.url, 50))['canary'] ?? 0, 0);

    await page.click('[data-controls] [data-action="start"]');
    await page.waitForSelector('[data-rollout-phase="progressing"]');
    assert.equal((await up.service('web')).rollout?.phase, 'progressing');

    await page.click('[data-controls] [data-action="promote"]');
    await page.waitForSelector('[data-rollout-phase="promoted"]', { timeout: 15_000 });
    assert.equal((await split(up.url, 50))['canary'], 1);
    await page.waitForSelector('#timeline li.kind-rollout:has-text("promoted")');
    assert.deepEqual(log.errors, []);
  });

  it('refuses a wrong token and shows no control', async () => {
    const other = await browser.newContext();
    const otherLog = watch(other);
    const p = await other.newPage();
    await signIn(p, up.url, 'not-the-token');
    await p.waitForSelector('#sign-in-error:has-text("Refused")');
    assert.equal(await p.locator('[data-controls]').count(), 0);
    assert.equal(await p.locator('[data-service]').count(), 0);
    // The stream and the admin API refuse a browser that is not signed in.
    const events = await p.evaluate(async () => (await fetch('/_flotilla/ui/events')).status);
    assert.equal(events, 401);
    const put = await p.evaluate(
      async () =>
        (
          await fetch('/_flotilla/services/web/weights', {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ weights: { stable: 0, canary: 100 } }),
          })
        ).status,
    );
    assert.equal(put, 401);
    // The refused sign-in and the two refused calls show in the console as failed loads (401).
    assert.deepEqual(
      otherLog.errors.filter((e) => !/status of 401/.test(e)),
      [],
    );
    await other.close();
  });

  it('a signed-in session still needs the CSRF header and this Origin to change anything', async () => {
    const noCsrf = await page.evaluate(
      async () =>
        (
          await fetch('/_flotilla/services/web/weights', {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ weights: { stable: 100, canary: 0 } }),
          })
        ).status,
    );
    assert.equal(noCsrf, 403);
    // A cross-site form cannot carry the cookie (SameSite=Strict) nor a custom header; from Node,
    // the right cookie and CSRF token with another Origin are refused too.
    const cookie = (await context.cookies()).find((c) => c.name === 'flotilla_session')!;
    const csrf = await page.evaluate(
      async () => ((await (await fetch('/_flotilla/ui/session')).json()) as { csrf: string }).csrf,
    );
    const res = await request(`${up.url}/_flotilla/services/web/weights`, {
      method: 'PUT',
      headers: {
        cookie: `flotilla_session=${cookie.value}`,
        'x-flotilla-csrf': csrf,
        origin: 'http://evil.example',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ weights: { stable: 100, canary: 0 } }),
    });
    assert.equal(res.statusCode, 403);
    assert.match(await res.body.text(), /FLT_CSRF_REJECTED/);
    assert.equal((await up.service('web')).variants.find((v) => v.tag === 'canary')?.weight, 100);
  });

  it('the token never appears in any URL the pages requested', () => {
    assert.ok(log.urls.length > 5, `requests seen: ${log.urls.length}`);
    const leaked = log.urls.filter((u) => u.includes(TOKEN) || u.includes(encodeURIComponent(TOKEN)));
    assert.deepEqual(leaked, []);
    // Everything came from the gateway itself: no CDN, no other origin.
    const foreign = log.urls.filter((u) => !u.startsWith(up.url));
    assert.deepEqual(foreign, []);
  });
});

describe('bench --html report in headless Chromium', { timeout: 60_000 }, () => {
  it('draws its charts offline with no console errors, and bench names the files it wrote', async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const tmp = tempDir('bench-report');
    const server = await startServe(['--model-repository', EXAMPLE_MODELS, '--models', 'mnist']);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const html = join(tmp.dir, 'run.html');
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [
            CLI,
            'bench',
            '--url',
            server.url,
            '--model',
            'mnist',
            '--concurrency',
            '1:7:3',
            '--duration',
            '1',
            '--header',
            'host:mnist.example.com',
            '--html',
            html,
          ],
          { timeout: 30_000 },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
      assert.match(out, new RegExp(`^wrote ${html}$`, 'm'));
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const log = watch(context);
      const page = await context.newPage();
      await page.goto(pathToFileURL(html).href);
      await page.waitForSelector('#chart-4 canvas');
      assert.equal(await page.locator('.chart canvas').count(), 5);
      assert.match((await page.textContent('p.meta')) ?? '', /headers host: mnist\.example\.com/);
      // The windows table names each level by its concurrency.
      const levels = await page.locator('h2:has-text("Windows") + table tr td:first-child').allTextContents();
      assert.deepEqual([...new Set(levels)], ['1', '4', '7']);
      await page.screenshot({ path: join(SCREENSHOTS, 'bench-report.png'), fullPage: true });
      assert.deepEqual(log.errors, []);
      assert.deepEqual(
        log.urls.filter((u) => !u.startsWith('file://')),
        [],
        'nothing fetched',
      );
    } finally {
      await browser.close();
      await server.stop();
      tmp.cleanup();
    }
  });
});
