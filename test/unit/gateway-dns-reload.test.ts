/**
 * Reloads between static and `dns://` endpoints, in process, against a real DNS server on loopback
 * (dns2) and real replicas: no request fails while a variant's replicas change source.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import dns2 from 'dns2';
import { parse } from 'yaml';
import { seededRandom, silentLogger, systemClock } from '../../src/core/index.js';
import { createDnsResolver, Gateway, type ReplicaRuntime } from '../../src/gateway/index.js';
import { LeastRequestBalancer } from '../../src/lb/index.js';
import { parseServiceFile, type ServiceFile } from '../../src/spec/index.js';
import { echo, startBackend } from '../fixtures/services/gateway-helpers.js';
import { waitFor } from '../helpers/flotilla-process.js';
import { rawRequest } from '../helpers/raw-http.js';

const { Packet } = dns2;
const NAME = 'm-v1.default.svc.cluster.local';
const file = (yaml: string): ServiceFile => parseServiceFile(parse(yaml), 'services.yaml');

describe('gateway reloads between static and dns:// endpoints', () => {
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('hands a variant from static replicas to DNS and back without failing a request', async () => {
    const server = dns2.createUDPServer((request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (q?.name === NAME && q.type === Packet.TYPE.A)
        response.answers.push(Packet.createResourceFromQuestion(q, { ttl: 1, address: '127.0.0.1' }));
      void send(response);
    });
    await server.listen(0, '127.0.0.1');
    closers.push(() => server.close());
    const slowEcho = (name: string) =>
      startBackend(name, (req, res, body, n) => setTimeout(() => echo(req, res, body, n), 200));
    const a = await slowEcho('static');
    const b = await slowEcho('found');
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const staticYaml = `services: { m: { variants: [{ tag: v1, endpoints: "${a.address}" }] } }`;
    const dnsYaml = `services: { m: { discovery: { interval: 1s, minInterval: 500ms }, variants: [{ tag: v1, endpoints: "dns://${NAME}:${b.port}" }] } }`;
    let next = dnsYaml;
    const random = seededRandom(5);
    const gw = new Gateway(
      file(staticYaml),
      { host: '127.0.0.1', port: 0 },
      {
        clock: systemClock,
        random,
        logger: silentLogger,
        balancer: () => new LeastRequestBalancer<ReplicaRuntime>({}, { random }),
        load: async () => file(next),
        dnsResolver: () =>
          createDnsResolver({ server: `127.0.0.1:${(server.address() as AddressInfo).port}` }),
      },
    );
    const url = `http://127.0.0.1:${(await gw.listen()).port}`;
    closers.push(() => gw.close());
    const v1 = () => gw.state().services[0]!.variants[0]!;
    const infer = () => rawRequest(url, 'POST', '/v2/models/m/infer', '{}');

    // Static -> DNS: requests in flight on the static replica finish; new ones go to the found one.
    const inflight = Array.from({ length: 4 }, infer);
    await new Promise((r) => setTimeout(r, 50));
    await gw.reload();
    await waitFor(() => v1().discovery?.status === 'resolved', 5000, 'the first answer');
    assert.deepEqual(
      v1().replicas.map((r) => r.id),
      [b.address],
    );
    // (Under a loaded machine some may only have arrived after the reload: any replica will do.)
    for (const r of await Promise.all(inflight)) assert.equal(r.status, 200);
    assert.ok(a.hits > 0, 'no request was in flight on the static replica');
    assert.equal((await infer()).headers['x-backend'], 'found');

    // The same file again: the loop and the replica stay (its count goes on).
    const served = v1().replicas[0]!.requests;
    assert.ok(served >= 1);
    const resolvedAt = v1().discovery?.resolvedAtMs;
    await gw.reload();
    assert.equal(v1().replicas[0]!.requests, served, 'the replica was rebuilt');
    assert.equal(
      v1().discovery?.resolvedAtMs,
      resolvedAt,
      'a reload with the same settings restarted discovery',
    );

    // DNS -> static: discovery stops, the static replica is back.
    next = staticYaml;
    const during = Array.from({ length: 4 }, infer);
    await new Promise((r) => setTimeout(r, 50));
    await gw.reload();
    assert.equal(v1().discovery, undefined);
    assert.deepEqual(
      v1().replicas.map((r) => r.id),
      [a.address],
    );
    for (const r of await Promise.all(during)) assert.equal(r.status, 200);
    assert.equal((await infer()).headers['x-backend'], 'static');
    assert.equal(v1().errors, 0);
  });
});
