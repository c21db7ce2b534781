import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OipGrpcClient, OipHttpClient } from '../../src/client/index.js';
import { type FlotillaProcess, startCli, waitFor } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

/** One request over HTTP/2 with prior knowledge, as Knative's queue-proxy sends on a port named h2c. */
async function h2c(
  url: string,
  path: string,
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const session = http2Connect(url);
  try {
    const stream = session.request({
      ':method': body === undefined ? 'GET' : 'POST',
      ':path': path,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    if (body !== undefined) stream.end(body);
    const [headers, text] = await Promise.all([
      new Promise<Record<string, unknown>>((resolve, reject) => {
        stream.once('response', (h) => resolve(h as Record<string, unknown>));
        stream.once('error', reject);
      }),
      (async () => {
        let text = '';
        stream.setEncoding('utf8');
        for await (const chunk of stream) text += chunk as string;
        return text;
      })(),
    ]);
    return { status: Number(headers[':status']), headers, body: text };
  } finally {
    session.close();
  }
}

describe('flotilla serve --port: REST over HTTP/1.1, gRPC and REST over h2c on one port', () => {
  const digits = heldOutDigits().filter((_, i) => i % 10 === 0);
  let dir: string;
  let server: FlotillaProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-mnt-models-'));
    cpSync(join(EXAMPLE_MODELS, 'mnist', '2', 'model.onnx'), join(dir, 'model.onnx'));
    server = await startCli(
      [
        'serve',
        '--model-dir',
        dir,
        '--model-name',
        'mnist',
        '--port',
        '0',
        '--poll-interval',
        '0',
        '--header-timeout',
        '1000',
      ],
      { listenTimeoutMs: 30_000, what: 'flotilla serve --port' },
    );
    await waitFor(async () => (await fetch(`${server.url}/v2/health/ready`)).status === 200, 60_000, 'ready');
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs one address for both', () => {
    assert.equal(server.url.replace('http://', ''), server.grpcAddress);
  });

  it('classifies the same digits over HTTP/1.1 and gRPC on that port', async () => {
    const http = new OipHttpClient({ baseUrl: server.url, connections: 2 });
    const grpc = new OipGrpcClient({ address: server.grpcAddress });
    try {
      for (const d of digits) {
        const viaHttp = await http.infer(digitsRequest([d]));
        const viaGrpc = await grpc.infer(digitsRequest([d]));
        const [a, b] = [viaHttp, viaGrpc].map((r) => argmaxRows(r.outputs[0]!.data as Float32Array, 1)[0]);
        assert.equal(a, b);
      }
    } finally {
      grpc.close();
      await http.close();
    }
  });

  it('answers REST over h2c (every request behind a Knative port named h2c) with the same routes', async () => {
    const ready = await h2c(server.url, '/v2/health/ready');
    assert.equal(ready.status, 200);
    const d = digits[0]!;
    const infer = await h2c(
      server.url,
      '/v2/models/mnist/infer',
      JSON.stringify({ inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: [...d.pixels] }] }),
    );
    assert.equal(infer.status, 200, infer.body);
    assert.equal(infer.headers['content-type'], 'application/json');
    const probs = (JSON.parse(infer.body) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    assert.equal(argmaxRows(Float32Array.from(probs), 1)[0], d.label);
    const missing = await h2c(server.url, '/v2/models/nope/infer', '{"inputs":[]}');
    assert.equal(missing.status, 404);
    assert.equal((JSON.parse(missing.body) as { code: string }).code, 'FLT_MODEL_NOT_FOUND');
  });

  it('closes a connection that sends part of the preface and stalls', async () => {
    const port = Number(new URL(server.url).port);
    const socket = netConnect(port, '127.0.0.1');
    socket.write('PRI * HTTP/2');
    const started = Date.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // --header-timeout 1000: closed by the sniffer's deadline, not held forever.
    assert.ok(Date.now() - started < 10_000);
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
  });
});
