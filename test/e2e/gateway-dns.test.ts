/**
 * DNS discovery end to end: a real DNS server on loopback (dns2, UDP) answers for a name; real
 * replica processes listen on 127.0.0.2, .3 and .4 at one port (the whole of 127/8 is local on
 * Linux), so one NAME:PORT is several replicas, as a Kubernetes headless Service is; the real
 * `flotilla gateway` CLI resolves the name through `--dns-server`. Nothing is mocked.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import dns2 from 'dns2';
import { Pool } from 'undici';
import type { GatewayState, VariantState } from '../../src/gateway/index.js';
import { startGateway, writeServiceFile } from '../fixtures/services/gateway-helpers.js';
import type { FlotillaProcess } from '../helpers/flotilla-process.js';
import { waitFor } from '../helpers/flotilla-process.js';
import { ROOT } from '../helpers/paths.js';

const { Packet } = dns2;
const NAME = 'mnist-stable.default.svc.cluster.local';
const GHOST = 'ghost.default.svc.cluster.local';
const TOKEN = 'dns-test-token';
const INTERVAL_MS = 1000;
/** Requests still sent after the last change, so the drained replica is seen to get none. */
const AFTER_DRAIN = 400;
const CONCURRENCY = 8;

/** RFC 1035 §4.1.1's name error (dns2 3.0's types do not name its RCODE table). */
const NXDOMAIN = 3;

/** What the test's DNS server says for NAME: addresses, or NXDOMAIN. */
let answer: readonly string[] | 'nxdomain' = ['127.0.0.2'];

/** The test's DNS server: A records for NAME (TTL 1 s), NODATA for GHOST and for AAAA. */
function startDns(): Promise<ReturnType<typeof dns2.createUDPServer>> {
  const server = dns2.createUDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const q = request.questions[0];
    if (q?.name === NAME && answer === 'nxdomain') response.header.rcode = NXDOMAIN;
    else if (q?.name === NAME && q.type === Packet.TYPE.A && answer !== 'nxdomain') {
      for (const address of answer)
        response.answers.push(Packet.createResourceFromQuestion(q, { ttl: 1, address }));
    }
    void send(response);
  });
  return server.listen(0, '127.0.0.1').then(() => server);
}

/** One replica process on `host` (port 0: any free one, read from its first line). */
async function startReplica(
  host: string,
  port: number,
  ready = true,
): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [`${ROOT}test/fixtures/replicas/addressed-replica.mjs`], {
    env: { ...process.env, HOST: host, PORT: String(port), DELAY_MS: '3', READY: ready ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  const m = /listening [\d.]+:(\d+)/.exec(line.toString());
  assert.ok(m, `replica on ${host} did not say where it listens: ${line.toString()}`);
  return { proc, port: Number(m[1]) };
}

describe('flotilla gateway: dns:// endpoints follow a name (real DNS server, real replicas)', () => {
  let dns: Awaited<ReturnType<typeof startDns>>;
  const replicas: ChildProcess[] = [];
  let port = 0;
  let gw: FlotillaProcess;
  let pool: Pool;

  before(async () => {
    dns = await startDns();
    const first = await startReplica('127.0.0.2', 0);
    port = first.port;
    replicas.push(first.proc);
    for (const host of ['127.0.0.3', '127.0.0.4']) replicas.push((await startReplica(host, port)).proc);
    // In DNS but not ready: its health check fails.
    replicas.push((await startReplica('127.0.0.5', port, false)).proc);
    const config = writeServiceFile(`
services:
  mnist:
    discovery: { interval: 1s, minInterval: 500ms }
    variants:
      - { tag: stable, endpoints: "dns://${NAME}:${port}" }
  ghost:
    variants:
      - { tag: stable, endpoints: "dns://${GHOST}:${port}" }
`);
    const dnsPort = (dns.address() as AddressInfo).port;
    gw = await startGateway(config, ['--dns-server', `127.0.0.1:${dnsPort}`, '--admin-token', TOKEN]);
    pool = new Pool(gw.url, { connections: CONCURRENCY });
  });

  after(async () => {
    await pool?.close();
    await gw?.stop();
    for (const p of replicas) p.kill('SIGTERM');
    dns?.close();
  });

  const state = async (): Promise<GatewayState> => {
    const res = await pool.request({
      path: '/_flotilla/state',
      method: 'GET',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return (await res.body.json()) as GatewayState;
  };
  const variant = async (service: string): Promise<VariantState> =>
    (await state()).services.find((s) => s.name === service)!.variants[0]!;
  const replicaHosts = async (): Promise<string[]> =>
    (await variant('mnist')).replicas.map((r) => r.id.split(':')[0]!).sort();
  const served = async (host: string): Promise<number> => {
    const res = await fetch(`http://${host}:${port}/_count`);
    return Number(await res.text());
  };

  /** Changes the DNS answer; resolves with how long the gateway took to follow it (ms). */
  async function switchTo(hosts: string[]): Promise<number> {
    const t0 = performance.now();
    answer = hosts;
    await waitFor(async () => (await replicaHosts()).join() === hosts.join(), 5000, `replicas ${hosts}`);
    return performance.now() - t0;
  }

  it('follows 1, then 3, then 2 addresses under load with 0 failed requests, and drains the one that left', async () => {
    await waitFor(async () => (await replicaHosts()).join() === '127.0.0.2', 5000, 'the first answer');
    let stopped = false;
    let sent = 0;
    let done = 0;
    const failures: string[] = [];
    const hosts = new Map<string, number>();
    const worker = async (): Promise<void> => {
      // Runs until AFTER_DRAIN requests after the last change: a fixed total ended before the
      // drain on a fast machine (the changes wait on the discovery interval, the load does not).
      while (!stopped) {
        sent++;
        try {
          const res = await pool.request({
            path: '/v2/models/mnist/infer',
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          const text = await res.body.text();
          if (res.statusCode !== 200) failures.push(`${res.statusCode} ${text}`);
          else {
            const host = (JSON.parse(text) as { host: string }).host;
            hosts.set(host, (hosts.get(host) ?? 0) + 1);
          }
        } catch (err) {
          failures.push((err as Error).message);
        }
        done++;
      }
    };
    const load = Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const follow: number[] = [];
    let drainedAt = 0;
    let servedWhenDrained = 0;
    const scenario = (async () => {
      await waitFor(() => done >= 400, 60_000, '400 requests');
      follow.push(await switchTo(['127.0.0.2', '127.0.0.3', '127.0.0.4']));
      await waitFor(() => done >= 1000, 60_000, '1000 requests');
      follow.push(await switchTo(['127.0.0.2', '127.0.0.4']));
      drainedAt = done;
      // Its requests in flight (3 ms each) finish; after that it must get nothing new.
      await new Promise((r) => setTimeout(r, 300));
      servedWhenDrained = await served('127.0.0.3');
      await waitFor(() => done >= drainedAt + AFTER_DRAIN, 60_000, `${AFTER_DRAIN} requests after the drain`);
      stopped = true;
    })();
    await Promise.all([load, scenario]);

    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${done} requests failed`);
    assert.equal(done, sent);
    assert.ok(
      done >= drainedAt + AFTER_DRAIN,
      `load went on after the drain (drained at ${drainedAt} of ${done})`,
    );
    for (const [i, ms] of follow.entries())
      assert.ok(ms <= INTERVAL_MS + 1000, `change ${i + 1} followed after ${Math.round(ms)} ms`);
    for (const host of ['127.0.0.2', '127.0.0.3', '127.0.0.4'])
      assert.ok((hosts.get(host) ?? 0) > 0, `${host} served none: ${JSON.stringify([...hosts])}`);
    assert.equal(await served('127.0.0.3'), servedWhenDrained, 'the drained replica got new requests');
    const v = await variant('mnist');
    assert.equal(v.errors, 0);
    assert.equal(v.discovery?.status, 'resolved');
    assert.deepEqual(v.discovery?.addresses, ['127.0.0.2', '127.0.0.4']);
  });

  it('keeps the last known replicas through NXDOMAIN and logs the outage once', async () => {
    answer = 'nxdomain';
    await waitFor(async () => (await variant('mnist')).discovery?.status === 'failed', 5000, 'the failure');
    // Three more intervals of failing resolutions: still one log line, still two replicas serving.
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    assert.deepEqual(await replicaHosts(), ['127.0.0.2', '127.0.0.4']);
    for (let i = 0; i < 20; i++) {
      const res = await pool.request({ path: '/v2/models/mnist/infer', method: 'POST', body: '{}' });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    }
    const lines = gw.logs().split('\n');
    const failed = lines.filter((l) => l.includes('DNS resolution failed'));
    assert.equal(failed.length, 1, failed.join('\n'));
    assert.match(failed[0]!, /error="A ENOTFOUND, AAAA ENOTFOUND" kept=2/);
    answer = ['127.0.0.2', '127.0.0.4'];
    await waitFor(async () => (await variant('mnist')).discovery?.status === 'resolved', 5000, 'recovery');
  });

  it('a new address whose health check fails joins the set but gets no request', async () => {
    await switchTo(['127.0.0.2', '127.0.0.4', '127.0.0.5']);
    for (let i = 0; i < 60; i++) {
      const res = await pool.request({ path: '/v2/models/mnist/infer', method: 'POST', body: '{}' });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    }
    const v = await variant('mnist');
    const notReady = v.replicas.find((r) => r.id.startsWith('127.0.0.5:'));
    assert.equal(notReady?.healthy, false);
    assert.equal(notReady?.requests, 0);
    assert.equal(await served('127.0.0.5'), 0);
  });

  it('a name with no addresses is a clear status and the no-replica error, not a crash', async () => {
    const v = await variant('ghost');
    assert.equal(v.discovery?.status, 'no-addresses');
    assert.deepEqual(v.replicas, []);
    const res = await pool.request({ path: '/v2/models/ghost/infer', method: 'POST', body: '{}' });
    const body = await res.body.text();
    assert.equal(res.statusCode, 503);
    assert.match(body, /FLT_NO_REPLICA/);
    assert.match(body, /variant stable of service ghost has no replica/);
    assert.equal(gw.proc.exitCode, null);
  });
});
