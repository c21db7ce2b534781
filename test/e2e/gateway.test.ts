import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { OipGrpcClient, RoutingClient } from '../../src/client/index.js';
import { seededRandom } from '../../src/core/index.js';

import { decodeInferResponse, encodeInferRequest } from '../../src/protocol/oip-rest/index.js';
import {
  type GatewayProcess,
  startBackend,
  startGateway,
  type TinyBackend,
  writeServiceFile,
} from '../fixtures/services/gateway-helpers.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits, mapConcurrent } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

const TOKEN = 'e2e-token';
const digits = heldOutDigits();

/** One answered request through the gateway. */
interface Answer {
  readonly status: number;
  readonly variant: string;
  readonly replica: string;
  readonly predicted: number;
  readonly label: number;
}

describe('flotilla gateway in front of real mnist model servers', () => {
  let servers: FlotillaProcess[] = [];
  let failing: TinyBackend;
  let gateway: GatewayProcess;
  let pool: Pool;
  const addr = (s: FlotillaProcess): string => new URL(s.url).host;

  before(async () => {
    servers = await Promise.all(
      [0, 1, 2, 3, 4].map(() =>
        startServe(['--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--poll-interval', '0']),
      ),
    );
    // A replica that is up (ready) but answers every inference with 503.
    failing = await startBackend('failing', (_req, res) =>
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"overloaded"}'),
    );
    const [a, b, c, d, e] = servers.map(addr);
    const [, , gc, gd] = servers.map((s) => s.grpcAddress);
    const config = writeServiceFile(`
services:
  mnist:
    healthCheck: { interval: 200ms, unhealthyThreshold: 2 }
    outlierDetection: { consecutive5xx: 3, consecutiveGatewayErrors: 2, baseEjectionTime: 30s }
    variants:
      - { tag: var1, weight: 80, endpoints: "list://${a}, ${b}" }
      - { tag: var2, weight: 20, endpoints: "list://${c}, ${d}" }
  digits:
    healthCheck: false
    outlierDetection: { consecutive5xx: 3, baseEjectionTime: 30s }
    variants:
      - { tag: v1, modelName: mnist, endpoints: "list://${e}, ${failing.address}" }
  grpc-digits:
    variants:
      - { tag: g1, modelName: mnist, endpoints: "list://${c}, ${d}", grpcEndpoints: "list://${gc}, ${gd}" }
`);
    gateway = await startGateway(config, ['--admin-token', TOKEN, '--grpc-port', '0']);
    pool = new Pool(gateway.url, { connections: 16 });
  });

  after(async () => {
    await pool?.close();
    if (gateway) assert.equal(await gateway.stop(), 0);
    // A process killed by a signal has a signalCode, not an exitCode: stop() would wait forever.
    await Promise.all(servers.filter((s) => s.proc.signalCode === null).map((s) => s.stop()));
    await failing?.close();
  });

  /** Classifies digit `i` through the gateway; never throws, so failures are counted. */
  const classify = async (i: number, service = 'mnist'): Promise<Answer> => {
    const digit = digits[i % digits.length]!;
    const { body } = encodeInferRequest(digitsRequest([digit]));
    try {
      const res = await pool.request({
        path: `/v2/models/${service}/infer`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      const bytes = Buffer.from(await res.body.arrayBuffer());
      const h = (n: string): string => String(res.headers[n] ?? '');
      const predicted =
        res.statusCode === 200
          ? argmaxRows(decodeInferResponse(bytes).outputs[0]!.data as Float32Array, 1)[0]!
          : -1;
      return {
        status: res.statusCode,
        variant: h('x-flotilla-variant'),
        replica: h('x-flotilla-replica'),
        predicted,
        label: digit.label,
      };
    } catch {
      return { status: 0, variant: '', replica: '', predicted: -1, label: digit.label };
    }
  };
  const failures = (answers: readonly Answer[]): Answer[] => answers.filter((a) => a.status !== 200);
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${gateway.url}/_flotilla/${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('splits 2,000 requests 80/20 within 3 points, every replica serves, answers are right', async (t) => {
    const answers = await mapConcurrent(
      Array.from({ length: 2000 }, (_, i) => i),
      16,
      (i) => classify(i),
    );
    assert.deepEqual(failures(answers), []);
    const share = answers.filter((a) => a.variant === 'var1').length / answers.length;
    t.diagnostic(`var1 share ${share.toFixed(3)}`);
    assert.ok(Math.abs(share - 0.8) <= 0.03, `var1 took ${share}`);
    const byReplica = new Map<string, number>();
    for (const a of answers) byReplica.set(a.replica, (byReplica.get(a.replica) ?? 0) + 1);
    t.diagnostic(`per replica ${JSON.stringify([...byReplica])}`);
    for (const s of servers.slice(0, 4))
      assert.ok((byReplica.get(addr(s)) ?? 0) > 100, `${addr(s)} served ${byReplica.get(addr(s))}`);
    const accuracy = answers.filter((a) => a.predicted === a.label).length / answers.length;
    assert.ok(accuracy > 0.9, `accuracy ${accuracy}`);
  });

  it('passes the binary extension through byte for byte, with the gateway headers', async () => {
    const req = { ...digitsRequest(digits.slice(0, 3)), id: 'bin-1' };
    const { body, headerLength } = encodeInferRequest(req, { binaryInputs: true, binaryOutputs: true });
    const send = async (url: string) => {
      const res = await fetch(`${url}/v2/models/mnist/versions/2/infer`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(headerLength),
        },
      });
      return { res, bytes: Buffer.from(await res.arrayBuffer()) };
    };
    const via = await send(gateway.url);
    const direct = await send(servers[0]!.url);
    assert.equal(via.res.status, 200);
    assert.equal(via.res.headers.get('x-flotilla-service'), 'mnist');
    assert.match(via.res.headers.get('x-flotilla-variant') ?? '', /^var[12]$/);
    assert.match(via.res.headers.get('x-flotilla-replica') ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(
      via.res.headers.get('inference-header-content-length'),
      direct.res.headers.get('inference-header-content-length'),
    );
    assert.ok(via.bytes.equals(direct.bytes), 'the same bytes as from the replica directly');
    const decoded = decodeInferResponse(
      via.bytes,
      Number(via.res.headers.get('inference-header-content-length')),
    );
    assert.equal(decoded.id, 'bin-1');
    assert.deepEqual(decoded.outputs[0]!.shape, [3, 10]);
  });

  it('ejects a replica answering 503 and moves its traffic, with no failed request', async () => {
    const answers = await mapConcurrent(
      Array.from({ length: 200 }, (_, i) => i),
      4,
      (i) => classify(i, 'digits'),
    );
    assert.deepEqual(failures(answers), []);
    assert.ok(answers.every((a) => a.replica === addr(servers[4]!)));
    assert.ok(failing.hits >= 3 && failing.hits <= 6, `the 503 replica saw ${failing.hits} requests`);
    const state = (await (await admin('GET', 'state')).json()) as {
      services: { name: string; variants: { replicas: { id: string; ejected: boolean }[] }[] }[];
    };
    const replica = state.services
      .find((s) => s.name === 'digits')!
      .variants[0]!.replicas.find((r) => r.id === failing.address);
    assert.equal(replica?.ejected, true);
  });

  it('routes on the client side with the same split and balancer (RoutingClient)', async () => {
    const [a, b, c] = servers.map(addr);
    const client = new RoutingClient(
      {
        variants: [
          // A dead address among the replicas: its refused connections are retried elsewhere.
          { tag: 'var1', weight: 50, endpoints: `list://${a}, ${failing.address.replace(/:\d+$/, ':1')}` },
          { tag: 'var2', weight: 50, endpoints: [b!, c!], modelVersion: '1' },
        ],
      },
      { random: seededRandom(5) },
    );
    try {
      const answers = await mapConcurrent(
        Array.from({ length: 400 }, (_, i) => i),
        8,
        async (i) => {
          const r = await client.infer(digitsRequest([digits[i]!]));
          return { ...r, label: digits[i]!.label };
        },
      );
      const share = answers.filter((x) => x.variant === 'var1').length / answers.length;
      assert.ok(Math.abs(share - 0.5) < 0.08, `var1 took ${share}`);
      assert.deepEqual(
        new Set(answers.filter((x) => x.variant === 'var2').map((x) => x.replica)),
        new Set([b, c]),
      );
      assert.ok(answers.filter((x) => x.variant === 'var2').every((x) => x.response.version === '1'));
      assert.ok(answers.filter((x) => x.variant === 'var1').every((x) => x.replica === a));
      const right = answers.filter(
        (x) => argmaxRows(x.response.outputs[0]!.data as Float32Array, 1)[0] === x.label,
      );
      assert.ok(right.length / answers.length > 0.85);
      const sticky = await client.infer(digitsRequest([digits[0]!]), { key: 'user-7' });
      for (let i = 0; i < 5; i++)
        assert.equal(
          (await client.infer(digitsRequest([digits[0]!]), { key: 'user-7' })).variant,
          sticky.variant,
        );
      assert.equal((await client.infer(digitsRequest([digits[0]!]), { variant: 'var2' })).variant, 'var2');
    } finally {
      await client.close();
    }
  });

  it('passes gRPC through (HTTP/2), routed by the model name in the message and renamed', async () => {
    const client = new OipGrpcClient({ address: gateway.grpcAddress });
    try {
      assert.equal(await client.serverReady(), true);
      const answers = await mapConcurrent(
        Array.from({ length: 100 }, (_, i) => i),
        8,
        async (i) => {
          const res = await client.infer({ ...digitsRequest([digits[i]!]), model: 'grpc-digits' });
          return { res, label: digits[i]!.label };
        },
      );
      assert.ok(answers.every((a) => a.res.model === 'mnist'));
      const right = answers.filter(
        (a) => argmaxRows(a.res.outputs[0]!.data as Float32Array, 1)[0] === a.label,
      );
      assert.ok(right.length > 85, `${right.length} of 100 right`);
      await assert.rejects(
        client.infer({ ...digitsRequest([digits[0]!]), model: 'nope' }),
        /no service routes ModelInfer for model nope/,
      );
    } finally {
      client.close();
    }
    // The gateway's headers ride on the response metadata.
    const session = connect(`http://${gateway.grpcAddress}`);
    try {
      const name = Buffer.from('grpc-digits');
      const call = session.request({
        ':method': 'POST',
        ':path': '/inference.GRPCInferenceService/ModelReady',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      call.end(Buffer.concat([Buffer.from([0, 0, 0, 0, name.length + 2, 0x0a, name.length]), name]));
      const [headers] = (await once(call, 'response')) as [Record<string, string>];
      call.resume();
      await once(call, 'end');
      assert.equal(headers['x-flotilla-service'], 'grpc-digits');
      assert.equal(headers['x-flotilla-variant'], 'g1');
      assert.ok(
        [servers[2]!.url, servers[3]!.url]
          .map((u) => new URL(u).host)
          .includes(headers['x-flotilla-replica']!),
      );
    } finally {
      session.close();
    }
  });

  it('loses no request when a replica is killed with SIGKILL under load', async (t) => {
    const victim = servers[1]!;
    let done = 0;
    const load = mapConcurrent(
      Array.from({ length: 1500 }, (_, i) => i),
      16,
      async (i) => {
        const a = await classify(i);
        done++;
        return a;
      },
    );
    while (done < 300) await new Promise((r) => setTimeout(r, 5));
    victim.proc.kill('SIGKILL');
    const killedAt = done;
    const answers = await load;
    t.diagnostic(`killed ${addr(victim)} after ${killedAt} requests`);
    assert.deepEqual(failures(answers), []);
    const after = answers.slice(1000);
    assert.ok(
      after.every((a) => a.replica !== addr(victim)),
      'no answer from the killed replica once it is gone',
    );
  });

  it('changes weights through the admin API under load without a failed request', async () => {
    let done = 0;
    let changedAt = -1;
    const load = mapConcurrent(
      Array.from({ length: 1200 }, (_, i) => i),
      8,
      async (i) => {
        const a = await classify(i);
        done++;
        return { ...a, startedAfterChange: changedAt >= 0 && i > changedAt };
      },
    );
    while (done < 200) await new Promise((r) => setTimeout(r, 5));
    const res = await admin('PUT', 'services/mnist/weights', { weights: { var1: 0, var2: 100 } });
    assert.equal(res.status, 200);
    changedAt = done + 16;
    const answers = await load;
    assert.deepEqual(failures(answers), []);
    const later = answers.filter((a) => a.startedAfterChange);
    assert.ok(later.length > 500);
    assert.ok(
      later.every((a) => a.variant === 'var2'),
      'every request after the change went to var2',
    );
  });

  it('reports per-variant and per-replica metrics', async () => {
    const text = await (await fetch(`${gateway.url}/_flotilla/metrics`)).text();
    assert.match(
      text,
      /flotilla_gateway_requests_total\{service="mnist",variant="var2",replica="[\d.:]+"\} \d+/,
    );
    assert.match(
      text,
      /flotilla_gateway_request_duration_seconds_bucket\{le="0\.005",service="mnist",variant="var1"/,
    );
    assert.match(text, /flotilla_gateway_variant_in_flight\{service="mnist",variant="var1"\} 0/);
    assert.match(text, /flotilla_gateway_retries_total\{service="digits"\} [1-9]/);
  });
});
