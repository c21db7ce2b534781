import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI } from '../helpers/paths.js';

/**
 * A tiny OIP server: metadata for model "m", and infer answers after `delayMs` (switchable while
 * a bench runs). With `variant`, answers carry the gateway's variant and replica headers.
 */
class DelayServer {
  delayMs = 0;
  infers = 0;
  readonly server: Server;
  constructor(readonly variant?: string) {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              name: 'm',
              versions: ['1'],
              platform: 'test',
              inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
              outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
            }),
          );
          return;
        }
        this.infers++;
        const answer = () => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (this.variant)
            Object.assign(headers, {
              'x-flotilla-variant': this.variant,
              'x-flotilla-replica': `${this.variant}-1`,
            });
          res.writeHead(200, headers);
          res.end(
            '{"model_name":"m","model_version":"1","outputs":[{"name":"y","datatype":"FP32","shape":[1,1],"data":[1]}]}',
          );
        };
        if (this.delayMs === 0) answer();
        else setTimeout(answer, this.delayMs);
      });
    });
  }
  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('flotilla bench: SLO violation rate switches endpoints (seed 003 change_server)', () => {
  const primary = new DelayServer();
  const secondary = new DelayServer('canary');
  let urls: string[];
  let dir: string;
  before(async () => {
    urls = [await primary.listen(), await secondary.listen()];
    dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-slo-'));
  });
  after(async () => {
    await Promise.all([primary.close(), secondary.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves to the second endpoint once the first one slows past the threshold, and reports the event', async (t) => {
    const file = join(dir, 'slo.json');
    const proc = spawn(
      process.execPath,
      [
        CLI,
        'bench',
        '--model',
        'm',
        '--endpoints',
        urls.join(','),
        '--latency-threshold',
        '40',
        '--max-violation-rate',
        '0.25',
        '--concurrency',
        '4',
        '--duration',
        '3',
        '--measurement-interval',
        '500',
        '--json',
        file,
        '--progress',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d));
    proc.stdout.resume();
    // The first endpoint answers in no time for a second, then takes 120 ms: over the 40 ms threshold.
    // The second is counted from the bench's first request, not from the spawn: the CLI's own
    // start-up took a second on a busy machine, and the endpoint was slow before it was measured.
    let slow: NodeJS.Timeout | undefined;
    const firstRequest = setInterval(() => {
      if (primary.infers === 0) return;
      clearInterval(firstRequest);
      slow = setTimeout(() => (primary.delayMs = 120), 1000);
    }, 5);
    const [code] = (await once(proc, 'exit')) as [number];
    clearInterval(firstRequest);
    clearTimeout(slow);
    assert.equal(code, 0, stderr);
    const j = JSON.parse(readFileSync(file, 'utf8')) as {
      events: { kind: string; from: string; to: string; at_s: number; violation_rate: number }[];
      windows: { endpoint: string; violations: number; requests: number }[];
      endpoints: { endpoint: string; requests: number }[];
      variants: { variant: string; requests: number; replicas: { replica: string; requests: number }[] }[];
      requests: number;
      violations: number;
    };
    t.diagnostic(`events: ${JSON.stringify(j.events)}`);
    t.diagnostic(
      `windows: ${j.windows.map((w) => `${w.endpoint.slice(-5)}:${w.violations}/${w.requests}`).join(' ')}`,
    );
    const switches = j.events.filter((e) => e.kind === 'endpoint-switch');
    assert.equal(switches.length, 1, 'one switch: the second endpoint stays fast');
    assert.equal(switches[0]!.from, urls[0]);
    assert.equal(switches[0]!.to, urls[1]);
    assert.ok(switches[0]!.at_s >= 1, `switched at ${switches[0]!.at_s} s, before the first endpoint slowed`);
    assert.ok(switches[0]!.violation_rate > 0.25);
    // Windows before the slow-down were served by the first endpoint.
    assert.equal(j.windows[0]!.endpoint, urls[0]);
    assert.equal(j.windows.at(-1)!.endpoint, urls[1]);
    assert.match(stderr, /event at .*switched to/);
    // Every request is accounted to an endpoint; the second one answered with gateway headers.
    assert.equal(j.endpoints[0]!.requests + j.endpoints[1]!.requests, j.requests);
    assert.equal(j.endpoints[0]!.requests, primary.infers);
    assert.equal(j.endpoints[1]!.requests, secondary.infers);
    assert.deepEqual(
      j.variants.map((v) => [v.variant, v.requests, v.replicas.map((r) => r.replica)]),
      [['canary', secondary.infers, ['canary-1']]],
    );
  });
});
