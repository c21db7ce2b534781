import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { startGateway, writeServiceFile } from '../fixtures/services/gateway-helpers.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

const SERVICE = '/inference.GRPCInferenceService';

/** A protobuf varint. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
/** A length-delimited field. */
const field = (n: number, payload: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from([(n << 3) | 2, ...varint(payload.length)]), payload]);
const str = (n: number, s: string): Buffer => field(n, Buffer.from(s));

/** The answer of one unary call sent as raw protobuf bytes by a real @grpc/grpc-js client. */
interface RawAnswer {
  readonly err: ServiceError | null;
  readonly ms: number;
}

const newClient = (address: string): Client =>
  new Client(address, credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  });

/** One call; on `reuse`'s connection when given (already connected: no set-up in the timing). */
function rawCall(address: string, method: string, body: Buffer, reuse?: Client): Promise<RawAnswer> {
  const client = reuse ?? newClient(address);
  const started = performance.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `${SERVICE}/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new Metadata(),
      (err) => {
        if (!reuse) client.close();
        resolve({ err: err ?? null, ms: performance.now() - started });
      },
    );
  });
}

const vmRssKb = (pid: number, key = 'VmRSS'): number =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** `inputs { name "image" datatype <dt> shape [1, 784] contents { bytes_contents × count, empty } }` */
function emptyBytesRequest(datatype: string, count: number): Buffer {
  const contents = Buffer.alloc(count * 2);
  for (let i = 0; i < contents.length; i += 2) contents[i] = 0x42;
  const shape = field(3, Buffer.from([1, ...varint(784)]));
  const input = Buffer.concat([str(1, 'image'), str(2, datatype), shape, field(5, contents)]);
  return Buffer.concat([str(1, 'mnist'), field(5, input)]);
}

const expectStatus = (a: RawAnswer, code: status, details: RegExp): void => {
  assert.ok(a.err, 'the call should fail');
  assert.equal(status[a.err.code], status[code], a.err.details);
  assert.match(a.err.details, details);
};

describe('gRPC hardening (issue 19): flotilla serve', () => {
  let server: FlotillaProcess;
  let client: Client;

  before(async () => {
    server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'mnist',
      '--poll-interval',
      '0',
    ]);
    client = newClient(server.grpcAddress);
  });
  after(async () => {
    client?.close();
    assert.equal(await server.stop(), 0);
  });

  for (const datatype of ['BYTES', 'FP32']) {
    it(`finding 1: 4M empty bytes_contents (8 MiB) declared ${datatype} to mnist is INVALID_ARGUMENT in < 1 s, health stays live`, async (t) => {
      const pid = server.proc.pid!;
      const body = emptyBytesRequest(datatype, 4 * 1024 * 1024);
      // The transport's own share: 8 MiB of raw_input_contents refused for its shape, unread.
      const image = Buffer.concat([str(1, 'image'), str(2, 'FP32'), field(3, Buffer.from([1, 1]))]);
      const transport = await rawCall(
        server.grpcAddress,
        'ModelInfer',
        Buffer.concat([str(1, 'mnist'), field(5, image), field(7, Buffer.alloc(body.length))]),
        client,
      );
      expectStatus(transport, status.INVALID_ARGUMENT, /./);
      const rssBefore = vmRssKb(pid);
      let worstLiveMs = 0;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const started = performance.now();
          assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
          worstLiveMs = Math.max(worstLiveMs, performance.now() - started);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const answer = await rawCall(server.grpcAddress, 'ModelInfer', body, client);
      polling = false;
      await poll;
      const rssAfter = vmRssKb(pid);
      t.diagnostic(
        `${(body.length / 2 ** 20).toFixed(1)} MiB answered in ${answer.ms.toFixed(0)} ms (8 MiB of raw contents refused by shape: ${transport.ms.toFixed(0)} ms); server RSS ${(rssBefore / 1024).toFixed(0)} -> ${(rssAfter / 1024).toFixed(0)} MB; worst /v2/health/live ${worstLiveMs.toFixed(0)} ms`,
      );
      expectStatus(
        answer,
        status.INVALID_ARGUMENT,
        datatype === 'BYTES'
          ? /^input "image": datatype BYTES but model "mnist" takes FP32$/
          : /^inputs\[0\] \("image"\)\.contents\.bytes_contents: FP32 data goes in contents\.fp32_contents$/,
      );
      assert.ok(answer.ms < 1000, `${answer.ms} ms`);
      assert.ok(worstLiveMs < 500, `health waited ${worstLiveMs} ms`);
      // The 8 MiB message itself is held once; protobufjs added 630 MB.
      assert.ok(rssAfter - rssBefore < 64 * 1024, `RSS grew ${(rssAfter - rssBefore) / 1024} MB`);
    });
  }

  it('finding 6: truncated fields are INVALID_ARGUMENT FLT_INVALID_PROTOBUF, never read as "mn"', async () => {
    const truncated = Buffer.from([0x0a, 0x05, 0x6d, 0x6e]);
    for (const method of ['ModelInfer', 'ModelReady', 'ModelMetadata']) {
      const answer = await rawCall(server.grpcAddress, method, truncated);
      expectStatus(answer, status.INVALID_ARGUMENT, /field 1 declares 5 bytes but 2 remain/);
      assert.deepEqual(answer.err!.metadata.get('flotilla-error-code'), ['FLT_INVALID_PROTOBUF']);
    }
    const nested = Buffer.concat([str(1, 'mnist'), Buffer.from([0x2a, 0x04, 0x0a, 0x05, 0x69, 0x6d])]);
    expectStatus(
      await rawCall(server.grpcAddress, 'ModelInfer', nested),
      status.INVALID_ARGUMENT,
      /^inputs\[0\]: field 1 declares 5/,
    );
  });

  it('a 1 MB model name gets a clear status with the message cut, and the server still answers', async () => {
    const answer = await rawCall(server.grpcAddress, 'ModelInfer', str(1, 'x'.repeat(1_000_000)));
    expectStatus(answer, status.INVALID_ARGUMENT, /^model name: "x{100,}… \(\d+ more characters\)$/);
    assert.ok(answer.err!.details.length < 1200, `${answer.err!.details.length} characters`);
    const live = await rawCall(server.grpcAddress, 'ServerLive', Buffer.alloc(0));
    assert.equal(live.err, null);
    const image = Buffer.alloc(784 * 4);
    const shape = field(3, Buffer.from([1, ...varint(784)]));
    const input = Buffer.concat([str(1, 'image'), str(2, 'FP32'), shape]);
    const ok = await rawCall(
      server.grpcAddress,
      'ModelInfer',
      Buffer.concat([str(1, 'mnist'), field(5, input), field(7, image)]),
    );
    assert.equal(ok.err, null);
  });
});

describe('gRPC hardening (issue 19): through flotilla gateway', () => {
  let server: FlotillaProcess;
  let gateway: FlotillaProcess;

  before(async () => {
    server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'mnist',
      '--poll-interval',
      '0',
    ]);
    const config = writeServiceFile(`
services:
  grpc-digits:
    variants:
      - { tag: g1, modelName: mnist, endpoints: "list://${new URL(server.url).host}", grpcEndpoints: "list://${server.grpcAddress}" }
  other:
    variants:
      - { tag: o1, modelName: mnist, endpoints: "list://${new URL(server.url).host}", grpcEndpoints: "list://${server.grpcAddress}" }
`);
    gateway = await startGateway(config, ['--grpc-port', '0']);
  });
  after(async () => {
    if (gateway) assert.equal(await gateway.stop(), 0);
    await server?.stop();
  });

  it('finding 6: error details arrive as sent, not percent-encoded (known services: …)', async () => {
    const answer = await rawCall(gateway.grpcAddress, 'ModelReady', str(1, 'nope'));
    expectStatus(
      answer,
      status.NOT_FOUND,
      /^no service routes ModelReady for model nope; known services: grpc-digits, other$/,
    );
  });

  it('finding 6: a 1 MB model name is NOT_FOUND with the name cut, not RST_STREAM', async () => {
    const answer = await rawCall(gateway.grpcAddress, 'ModelInfer', str(1, 'y'.repeat(1_000_000)));
    expectStatus(answer, status.NOT_FOUND, /for model y{64}… \(1000000 bytes\); known services/);
  });

  it('holds at most 64 MiB of a request before routing it: RESOURCE_EXHAUSTED above', async () => {
    const body = Buffer.concat([str(1, 'grpc-digits'), field(7, Buffer.alloc(64 * 1024 ** 2))]);
    const answer = await rawCall(gateway.grpcAddress, 'ModelInfer', body);
    expectStatus(answer, status.RESOURCE_EXHAUSTED, /^gRPC request larger than 67108864 bytes$/);
  });

  it('finding 6: a truncated model name is INVALID_ARGUMENT at the gateway', async () => {
    const answer = await rawCall(gateway.grpcAddress, 'ModelInfer', Buffer.from([0x0a, 0x05, 0x6d, 0x6e]));
    expectStatus(answer, status.INVALID_ARGUMENT, /declares 5 bytes but 2 remain/);
    const ok = await rawCall(gateway.grpcAddress, 'ModelReady', str(1, 'grpc-digits'));
    assert.equal(ok.err, null);
  });
});
