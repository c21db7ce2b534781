import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { OipGrpcClient, OipHttpClient } from '../../src/client/index.js';
import { readClientTls } from '../../src/tls/index.js';
import { startGateway } from '../fixtures/services/gateway-helpers.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { type FlotillaProcess, startServe, waitFor } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

const digits = heldOutDigits().slice(0, 8);

function checkDigits(probs: Float32Array): void {
  const hits = argmaxRows(probs, digits.length).filter((p, i) => p === digits[i]!.label).length;
  assert.ok(hits >= digits.length - 1, `${hits} of ${digits.length} digits right`);
}

describe('finding 7: a TLS gateway in front of an mTLS replica', () => {
  let pki: TestPki;
  let replica: FlotillaProcess;
  let gateway: FlotillaProcess;
  let tls: ReturnType<typeof readClientTls>;

  before(async () => {
    pki = makeTestPki();
    tls = readClientTls({ caFile: pki.ca }, 'test');
    // The replica requires a client certificate: only a gateway presenting one gets answers.
    replica = await startServe(
      [
        ...['--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--poll-interval', '0'],
        ...['--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-client-ca', pki.ca],
      ],
      { waitReady: false },
    );
    const http = new URL(replica.url);
    // Paths relative to the service file's folder.
    const config = join(pki.dir, 'services.yaml');
    writeFileSync(
      config,
      [
        'services:',
        '  mnist:',
        '    variants:',
        '      - tag: stable',
        `        endpoints: "${http.host}"`,
        `        grpcEndpoints: "${replica.grpcAddress}"`,
        '        tls: { ca: ca.pem, cert: client.pem, key: client-key.pem }',
        '',
      ].join('\n'),
    );
    // A small --max-buffer sends inference bodies through the node:http path (undici upstream)
    // while GETs stay on the raw-socket fast path (the gateway's own TLS socket pool).
    gateway = await startGateway(config, [
      ...['--grpc-port', '0', '--max-buffer', '1KiB'],
      ...['--tls-cert', pki.server.cert, '--tls-key', pki.server.key],
    ]);
    const probe = new OipHttpClient({ baseUrl: gateway.url, tls });
    await waitFor(
      async () => (await probe.status('/v2/models/mnist/ready')) === 200,
      60_000,
      'replica ready',
    );
    await probe.close();
  });
  after(async () => {
    assert.equal(await gateway?.stop(), 0);
    assert.equal(await replica?.stop(), 0);
    pki?.remove();
  });

  it('answers HTTPS on both data paths, relayed over mTLS to the replica', async () => {
    assert.match(gateway.url, /^https:\/\//);
    const http = new OipHttpClient({ baseUrl: gateway.url, tls });
    try {
      // The gateway's own endpoint: handed over from the fast path to node:http, over TLS.
      assert.equal(await http.status('/v2/health/live'), 200);
      // Fast path: a GET with no body, over the gateway's TLS socket pool.
      const meta = await http.getJson<{ name: string }>('/v2/models/mnist');
      assert.equal(meta.name, 'mnist');
      // node:http path: the body is over --max-buffer, proxied by undici over TLS.
      checkDigits((await http.infer(digitsRequest(digits, '2'))).outputs[0]!.data as Float32Array);
      checkDigits(
        (await http.infer(digitsRequest(digits, '2'), { binaryInputs: true, binaryOutputs: true }))
          .outputs[0]!.data as Float32Array,
      );
    } finally {
      await http.close();
    }
  });

  it('answers gRPC over TLS, relayed over mTLS to the replica', async () => {
    const grpc = new OipGrpcClient({ address: gateway.grpcAddress, tls });
    try {
      checkDigits(
        (await grpc.infer(digitsRequest(digits, '2'), { raw: true })).outputs[0]!.data as Float32Array,
      );
    } finally {
      grpc.close();
    }
  });

  it('refuses plain HTTP on its TLS port', async () => {
    await assert.rejects(
      request(`${gateway.url.replace('https://', 'http://')}/v2/health/live`, { headersTimeout: 5000 }),
    );
  });
});
