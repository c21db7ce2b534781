import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { OipGrpcClient, OipHttpClient } from '../../src/client/index.js';
import { readClientTls } from '../../src/tls/index.js';
import { fingerprint, makeTestPki, type TestPki } from '../helpers/certs.js';
import { type FlotillaProcess, startServe, waitFor } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { CLI, EXAMPLE_MODELS } from '../helpers/paths.js';
import { hostPort, peerFingerprint } from '../helpers/tls-probe.js';

const digits = heldOutDigits().slice(0, 8);

/** Starts `flotilla serve` with TLS flags and waits until it is ready over HTTPS. */
async function startTlsServe(args: readonly string[], tls: ReturnType<typeof readClientTls>) {
  const server = await startServe(
    ['--model-repository', EXAMPLE_MODELS, '--models', 'mnist', '--poll-interval', '0', ...args],
    { waitReady: false },
  );
  const probe = new OipHttpClient({ baseUrl: server.url, tls });
  await waitFor(async () => (await probe.status('/v2/health/ready')) === 200, 60_000, 'server ready');
  await probe.close();
  return server;
}

function checkDigits(probs: Float32Array): void {
  const hits = argmaxRows(probs, digits.length).filter((p, i) => p === digits[i]!.label).length;
  assert.ok(hits >= digits.length - 1, `${hits} of ${digits.length} digits right`);
}

describe('finding 7: serve speaks TLS on HTTP and gRPC, reloading its certificate', () => {
  let pki: TestPki;
  let server: FlotillaProcess;
  let live: { cert: string; key: string };

  before(async () => {
    pki = makeTestPki();
    // The server reads these paths; the reload test overwrites them.
    live = { cert: join(pki.dir, 'live.pem'), key: join(pki.dir, 'live-key.pem') };
    copyFileSync(pki.server.cert, live.cert);
    copyFileSync(pki.server.key, live.key);
    server = await startTlsServe(
      ['--tls-cert', live.cert, '--tls-key', live.key],
      readClientTls({ caFile: pki.ca }, 'test'),
    );
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    pki?.remove();
  });

  it('logs an https:// URL', () => assert.match(server.url, /^https:\/\//));

  it('answers Triton/KServe-style OIP clients over HTTPS (JSON and binary) and gRPC-TLS (typed and raw)', async () => {
    const tls = readClientTls({ caFile: pki.ca }, 'test');
    const http = new OipHttpClient({ baseUrl: server.url, tls });
    const grpc = new OipGrpcClient({ address: server.grpcAddress, tls });
    try {
      const req = digitsRequest(digits, '2');
      for (const res of [
        await http.infer(req),
        await http.infer(req, { binaryInputs: true, binaryOutputs: true }),
        await grpc.infer(req),
        await grpc.infer(req, { raw: true }),
      ])
        checkDigits(res.outputs[0]!.data as Float32Array);
    } finally {
      await http.close();
      grpc.close();
    }
  });

  it('hands a connection the fast path does not take (a chunked body) to node:http, over TLS too', async () => {
    const agent = new Agent({ connect: { ca: readFileSync(pki.ca) }, connections: 1 });
    const body = JSON.stringify({
      inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: Array.from(digits[0]!.pixels) }],
    });
    // No content-length: undici sends it chunked, which the raw-socket fast path hands over.
    async function* chunked() {
      yield body.slice(0, 1000);
      yield body.slice(1000);
    }
    try {
      const res = await request(`${server.url}/v2/models/mnist/versions/2/infer`, {
        method: 'POST',
        body: Readable.from(chunked()),
        headers: { 'content-type': 'application/json' },
        dispatcher: agent,
      });
      const answer = (await res.body.json()) as { outputs: { data: number[] }[] };
      assert.equal(res.statusCode, 200);
      assert.deepEqual(argmaxRows(Float32Array.from(answer.outputs[0]!.data), 1), [digits[0]!.label]);
      // The same (handed-over) connection keeps serving.
      const again = await request(`${server.url}/v2/health/live`, { dispatcher: agent });
      await again.body.dump();
      assert.equal(again.statusCode, 200);
    } finally {
      await agent.close();
    }
  });

  it('refuses plain HTTP and plaintext gRPC on the TLS ports', async () => {
    const plainUrl = server.url.replace('https://', 'http://');
    await assert.rejects(request(`${plainUrl}/v2/health/live`, { headersTimeout: 5000 }));
    const grpc = new OipGrpcClient({ address: server.grpcAddress });
    try {
      await assert.rejects(grpc.serverReady());
    } finally {
      grpc.close();
    }
  });

  it('refuses a client that does not trust the certificate', async () => {
    const other = pki.foreign();
    const http = new OipHttpClient({ baseUrl: server.url, tls: readClientTls({ caFile: other.ca }, 'test') });
    try {
      await assert.rejects(http.status('/v2/health/live'), /certificate/);
    } finally {
      await http.close();
    }
  });

  it('serves a certificate replaced on disk to new connections, on both ports, within seconds', async () => {
    const ca = readFileSync(pki.ca);
    const httpAddr = hostPort(server.url);
    const grpcAddr = hostPort(server.grpcAddress);
    assert.equal(await peerFingerprint(httpAddr, { ca }), fingerprint(pki.server.cert));
    assert.equal(await peerFingerprint(grpcAddr, { ca, alpn: 'h2' }), fingerprint(pki.server.cert));
    const next = pki.issueServer('server-next');
    const started = Date.now();
    copyFileSync(next.key, live.key);
    copyFileSync(next.cert, live.cert);
    const want = fingerprint(next.cert);
    await waitFor(
      async () => (await peerFingerprint(httpAddr, { ca })) === want,
      10_000,
      'new HTTP certificate',
    );
    await waitFor(
      async () => (await peerFingerprint(grpcAddr, { ca, alpn: 'h2' })) === want,
      10_000,
      'new gRPC certificate',
    );
    assert.ok(Date.now() - started < 5000, `reloaded in ${Date.now() - started} ms`);
    assert.match(server.logs(), /TLS certificate reloaded/);
    // Inference still works on the new certificate.
    const http = new OipHttpClient({ baseUrl: server.url, tls: readClientTls({ caFile: pki.ca }, 'test') });
    try {
      checkDigits((await http.infer(digitsRequest(digits, '2'))).outputs[0]!.data as Float32Array);
    } finally {
      await http.close();
    }
  });
});

describe('finding 7: serve --tls-client-ca requires client certificates (mTLS)', () => {
  let pki: TestPki;
  let server: FlotillaProcess;

  before(async () => {
    pki = makeTestPki();
    server = await startTlsServe(
      ['--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-client-ca', pki.ca],
      readClientTls({ caFile: pki.ca, certFile: pki.client.cert, keyFile: pki.client.key }, 'test'),
    );
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    pki?.remove();
  });

  it('refuses clients without a certificate on HTTP and gRPC', async () => {
    const tls = readClientTls({ caFile: pki.ca }, 'test');
    const http = new OipHttpClient({ baseUrl: server.url, tls });
    const grpc = new OipGrpcClient({ address: server.grpcAddress, tls });
    try {
      await assert.rejects(http.status('/v2/health/live'));
      await assert.rejects(grpc.serverReady());
    } finally {
      await http.close();
      grpc.close();
    }
  });

  it('answers clients with a certificate the CA signed on HTTP and gRPC', async () => {
    const tls = readClientTls({ caFile: pki.ca, certFile: pki.client.cert, keyFile: pki.client.key }, 'test');
    const http = new OipHttpClient({ baseUrl: server.url, tls });
    const grpc = new OipGrpcClient({ address: server.grpcAddress, tls });
    try {
      checkDigits((await http.infer(digitsRequest(digits, '2'))).outputs[0]!.data as Float32Array);
      assert.equal(await grpc.serverReady(), true);
    } finally {
      await http.close();
      grpc.close();
    }
  });
});

describe('finding 7: TLS flags that cannot work stop serve at once, naming the flag', () => {
  const run = promisify(execFile);
  const fails = async (args: readonly string[]): Promise<string> => {
    try {
      await run(process.execPath, [CLI, 'serve', '--model-repository', EXAMPLE_MODELS, ...args], {
        timeout: 20_000,
      });
    } catch (err) {
      const e = err as { code: number; stderr: string };
      assert.equal(e.code, 1);
      return e.stderr;
    }
    return assert.fail('expected flotilla serve to exit 1');
  };

  it('a certificate without its key, a missing file, a key of another certificate', async () => {
    const pki = makeTestPki();
    try {
      assert.match(
        await fails(['--tls-cert', pki.server.cert]),
        /--tls-key: TLS needs both --tls-cert and --tls-key/,
      );
      assert.match(
        await fails(['--tls-cert', join(pki.dir, 'nope.pem'), '--tls-key', pki.server.key]),
        /--tls-cert: cannot read .*nope\.pem/,
      );
      assert.match(
        await fails(['--tls-cert', pki.server.cert, '--tls-key', pki.client.key]),
        /--tls-cert\/--tls-key: .*server\.pem/,
      );
    } finally {
      pki.remove();
    }
  });
});
