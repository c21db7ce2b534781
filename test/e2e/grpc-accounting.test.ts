/**
 * Issue 18, "the gRPC copy has drifted": gRPC calls through a real in-process Gateway (real
 * sockets, tiny node:http2 replicas) are counted, timed, retried and judged as HTTP requests are —
 * down to a progressive rollout whose canary fails only over gRPC rolling back.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { seededRandom, silentLogger, systemClock } from '../../src/core/index.js';
import { ServiceRollout } from '../../src/fleet/service-rollout.js';
import { Gateway, type ReplicaRuntime } from '../../src/gateway/index.js';
import { LeastRequestBalancer, RoundRobinBalancer } from '../../src/lb/index.js';
import { parseServiceFile } from '../../src/spec/index.js';
import { startBackend } from '../fixtures/services/gateway-helpers.js';
import { type GrpcAnswer, grpcCall, startGrpcReplica } from '../fixtures/services/grpc-helpers.js';
import { rawRequest } from '../helpers/raw-http.js';

const OK = 0;
const DEADLINE_EXCEEDED = 4;
const INTERNAL = 13;
const UNAVAILABLE = 14;

const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/** A replica: an HTTP side (health checks, HTTP traffic) and a gRPC side answering as told. */
async function replica(how: (n: number) => GrpcAnswer): Promise<{ http: string; grpc: string }> {
  const http = await startBackend('r');
  const grpc = await startGrpcReplica(how);
  closers.push(
    () => http.close(),
    () => grpc.close(),
  );
  return { http: http.address, grpc: grpc.address };
}

/** A variant line of the service file over `replicas`. */
const variant = (tag: string, weight: number, replicas: { http: string; grpc: string }[]): string =>
  `      - { tag: ${tag}, weight: ${weight}, endpoints: "list://${replicas.map((r) => r.http).join(',')}", grpcEndpoints: "list://${replicas.map((r) => r.grpc).join(',')}" }`;

/** An in-process gateway with a gRPC port; `service` is the YAML under `services:`. */
async function gateway(service: string): Promise<{ gw: Gateway; url: string; grpc: string }> {
  const random = seededRandom(18);
  const gw = new Gateway(
    parseServiceFile(parse(`services:\n${service}`), 'services.yaml'),
    { host: '127.0.0.1', port: 0, grpcPort: 0, staticOnly: true },
    {
      clock: systemClock,
      random,
      logger: silentLogger,
      balancer: (p) =>
        p === 'round_robin'
          ? new RoundRobinBalancer<ReplicaRuntime>()
          : new LeastRequestBalancer<ReplicaRuntime>({}, { random }),
    },
  );
  const address = await gw.listen();
  closers.push(() => gw.close());
  return { gw, url: `http://127.0.0.1:${address.port}`, grpc: `127.0.0.1:${gw.grpcAddress!.port}` };
}

describe('gRPC at parity with HTTP (issue 18)', () => {
  it('variant and replica error counters move with gRPC failures; a failing replica is ejected', async () => {
    const bad = await replica(() => ({ status: INTERNAL }));
    const good = await replica(() => ({ status: OK }));
    const { gw, grpc } = await gateway(`  web:
    balancer: round_robin
    outlierDetection: { consecutive5xx: 3, maxEjectionPercent: 50 }
    variants:
${variant('v1', 100, [bad, good])}
`);
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await grpcCall(grpc, 'web'));
    const v = gw.managedVariant('web', 'v1');
    const failed = results.filter((r) => r.status === INTERNAL).length;
    assert.equal(failed, 3, 'INTERNAL three times in a row, then ejected');
    assert.equal(v.requests, 12);
    assert.equal(v.errors, failed, 'INTERNAL counts as a failed request, as HTTP 500 does');
    assert.equal(v.latencies.quantileSince(0, 0.99) !== undefined, true, 'latencies recorded');
    const [r0, r1] = v.replicas;
    assert.equal(r0!.errors, 3);
    assert.equal(r0!.requests + r1!.requests, 12);
    assert.equal(r0!.ejected, true, 'outlier detection saw the 5xx-equivalents');
    assert.equal(v.inflight, 0);
    assert.deepEqual(budgetOf(gw), { activeRequests: 0, activeRetries: 0 });
  });

  it('an upstream failure is UNAVAILABLE FLT_UPSTREAM_FAILED, as HTTP answers (was FLT_NO_REPLICA)', async () => {
    const http = await startBackend('refused');
    closers.push(() => http.close());
    const closed = await startGrpcReplica(() => ({ status: OK }));
    await closed.close();
    const { gw, grpc } = await gateway(`  web:
    retry: { maxRetries: 0 }
    variants:
      - { tag: v1, endpoints: "list://${http.address}", grpcEndpoints: "list://${closed.address}" }
`);
    const r = await grpcCall(grpc, 'web');
    assert.equal(r.status, UNAVAILABLE);
    assert.equal(r.code, 'FLT_UPSTREAM_FAILED');
    assert.equal(gw.managedVariant('web', 'v1').errors, 1);
  });

  it('a variant with no gRPC address is UNAVAILABLE FLT_NO_REPLICA, its pick given back', async () => {
    const http = await startBackend('http-only');
    closers.push(() => http.close());
    const { gw, grpc } = await gateway(`  web:
    variants:
      - { tag: v1, endpoints: "list://${http.address}" }
`);
    for (let i = 0; i < 3; i++) {
      const r = await grpcCall(grpc, 'web');
      assert.equal(r.status, UNAVAILABLE);
      assert.equal(r.code, 'FLT_NO_REPLICA');
    }
    const v = gw.managedVariant('web', 'v1');
    assert.deepEqual([v.requests, v.errors, v.replicas[0]!.active], [3, 3, 0]);
  });

  it('a per-try timeout against a replica that never answers: DEADLINE_EXCEEDED within it', async () => {
    const hang = await replica(() => 'hang');
    const { gw, grpc } = await gateway(`  web:
    retry: { maxRetries: 0 }
    timeouts: { perTry: 300ms, total: 10s }
    variants:
${variant('v1', 100, [hang])}
`);
    const r = await grpcCall(grpc, 'web');
    assert.equal(r.status, DEADLINE_EXCEEDED, JSON.stringify(r));
    assert.equal(r.code, 'FLT_UPSTREAM_TIMEOUT');
    assert.ok(r.ms >= 280 && r.ms < 1500, `${r.ms} ms`);
    assert.equal(gw.managedVariant('web', 'v1').errors, 1);
  });

  it('a per-try timeout is retried on a healthy replica, which answers', async () => {
    let calls = 0;
    const how = (): GrpcAnswer => (++calls === 1 ? 'hang' : { status: OK });
    const a = await replica(how);
    const b = await replica(how);
    const { gw, grpc } = await gateway(`  web:
    timeouts: { perTry: 300ms, total: 10s }
    variants:
${variant('v1', 100, [a, b])}
`);
    const r = await grpcCall(grpc, 'web');
    assert.equal(r.status, OK, JSON.stringify(r));
    assert.ok(r.ms >= 280 && r.ms < 1500, `${r.ms} ms`);
    assert.equal(calls, 2);
    assert.equal(gw.managedVariant('web', 'v1').errors, 0);
  });

  it("the client's grpc-timeout is honoured (and passed on) when sooner than the service's", async () => {
    const seen: string[] = [];
    const hang = await startGrpcReplica(() => 'hang');
    const http = await startBackend('h');
    closers.push(
      () => hang.close(),
      () => http.close(),
    );
    const { grpc } = await gateway(`  web:
    variants:
      - { tag: v1, endpoints: "list://${http.address}", grpcEndpoints: "list://${hang.address}" }
`);
    const r = await grpcCall(grpc, 'web', { grpcTimeout: '250m' });
    seen.push(...hang.calls.map((h) => String(h['grpc-timeout'])));
    assert.equal(r.status, DEADLINE_EXCEEDED, JSON.stringify(r));
    assert.equal(r.code, 'FLT_UPSTREAM_TIMEOUT');
    assert.ok(r.ms >= 230 && r.ms < 1500, `${r.ms} ms`);
    assert.match(seen[0] ?? '', /^(2[0-4]\d|250)m$/, 'the replica is told what is left');
  });

  it('a deadline passing mid-answer ends the relayed answer with DEADLINE_EXCEEDED trailers', async () => {
    const stuck = await replica(() => 'headers-only');
    const { gw, grpc } = await gateway(`  web:
    variants:
${variant('v1', 100, [stuck])}
`);
    const r = await grpcCall(grpc, 'web', { grpcTimeout: '250m' });
    assert.equal(r.status, DEADLINE_EXCEEDED, JSON.stringify(r));
    assert.equal(r.code, 'FLT_UPSTREAM_TIMEOUT');
    assert.ok(r.ms >= 230 && r.ms < 1500, `${r.ms} ms`);
    const v = gw.managedVariant('web', 'v1');
    assert.deepEqual([v.requests, v.errors, v.inflight], [1, 1, 0]);
  });

  it('a client that goes away ends the call uncounted as an error, its budget given back', async () => {
    const hang = await replica(() => 'hang');
    const { gw, grpc } = await gateway(`  web:
    variants:
${variant('v1', 100, [hang])}
`);
    const r = await grpcCall(grpc, 'web', { waitMs: 200 });
    assert.equal(r.status, 'no answer');
    const v = gw.managedVariant('web', 'v1');
    for (let i = 0; i < 50 && v.inflight > 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.deepEqual([v.requests, v.errors, v.inflight], [1, 0, 0]);
    assert.deepEqual(budgetOf(gw), { activeRequests: 0, activeRetries: 0 });
  });

  it('a ModelStreamInfer stream is routed by its first message and relayed whole, and counted', async () => {
    const grpcReplica = await startGrpcReplica(() => ({ status: OK }));
    const http = await startBackend('s');
    closers.push(
      () => grpcReplica.close(),
      () => http.close(),
    );
    const { gw, grpc } = await gateway(`  web:
    timeouts: { perTry: 50ms, total: 60ms }
    variants:
      - { tag: v1, endpoints: "list://${http.address}", grpcEndpoints: "list://${grpcReplica.address}" }
`);
    const r = await grpcCall(grpc, 'web', { streamMore: Buffer.alloc(1000) });
    assert.equal(r.status, OK, JSON.stringify(r));
    assert.ok(r.ms >= 90, 'the stream outlived the unary timeouts: only grpc-timeout bounds it');
    assert.equal(grpcReplica.bytes[0], 5 + 5 + 1000);
    const v = gw.managedVariant('web', 'v1');
    assert.deepEqual([v.requests, v.errors, v.inflight], [1, 0, 0]);
  });

  it('an UNAVAILABLE answer is retried elsewhere, holding a budget slot for the retry', async () => {
    let calls = 0;
    const how = (): GrpcAnswer => (++calls === 1 ? { status: UNAVAILABLE } : { status: OK, delayMs: 300 });
    const a = await replica(how);
    const b = await replica(how);
    const { gw, grpc } = await gateway(`  web:
    variants:
${variant('v1', 100, [a, b])}
`);
    const pending = grpcCall(grpc, 'web');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(budgetOf(gw), { activeRequests: 1, activeRetries: 1 }, 'slot held during the retry');
    const r = await pending;
    assert.equal(r.status, OK, JSON.stringify(r));
    assert.deepEqual(budgetOf(gw), { activeRequests: 0, activeRetries: 0 });
  });

  it('show-case: a progressive rollout whose canary fails only over gRPC rolls back', async () => {
    const stable = await replica(() => ({ status: OK }));
    const canary = await replica(() => ({ status: UNAVAILABLE }));
    const { gw, url, grpc } = await gateway(`  web:
    retry: { maxRetries: 0 }
    variants:
${variant('stable', 100, [stable])}
${variant('canary', 0, [canary])}
`);
    const config = {
      steps: [20, 50, 100],
      intervalMs: 60_000,
      minRequests: 5,
      slo: { latencyMs: 500, errorRate: 0.05 },
    };
    // The reading Fleet.canaryReading takes of the gateway's variant.
    const v = gw.managedVariant('web', 'canary');
    const reading = () => ({
      requests: v.requests,
      errors: v.errors,
      p99Since: (since: number) => v.latencies.quantileSince(since, 0.99),
    });
    const rollout = new ServiceRollout('stable', 'canary', config, 0);
    const w = rollout.start(systemClock.now(), reading());
    gw.setWeights('web', { stable: 100 - w, canary: w }, 'fleet');
    // HTTP traffic: the canary answers it well, so the rollout holds.
    for (let i = 0; i < 40; i++) {
      const res = await rawRequest(url, 'POST', '/v2/models/web/infer', '{}', {});
      assert.equal(res.status, 200);
    }
    assert.ok(v.requests >= 5, `canary saw ${v.requests} HTTP requests`);
    assert.equal(rollout.tick(systemClock.now(), reading())?.action, 'hold');
    // gRPC traffic: the canary fails every call.
    for (let i = 0; i < 40; i++) await grpcCall(grpc, 'web');
    assert.ok(v.errors >= 3, `canary failed ${v.errors} gRPC calls`);
    const decision = rollout.tick(systemClock.now(), reading());
    assert.equal(decision?.action, 'rollback', decision?.reason);
    assert.equal(rollout.phase, 'rolled-back');
  });
});

/** The service's retry budget, as the gateway's state (admin API, autoscaler) shows it. */
function budgetOf(gw: Gateway): { activeRequests: number; activeRetries: number } {
  const s = gw.state().services[0]!;
  return { activeRequests: s.activeRequests, activeRetries: s.activeRetries };
}
