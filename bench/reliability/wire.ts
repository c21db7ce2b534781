/**
 * What the probes put on the wire: raw HTTP/1.1 exchanges on a socket they control (so a probe
 * knows when its last body byte left), mnist requests in every front end's format, and gRPC
 * messages as bytes (protobuf written by hand where a probe needs millions of fields or edited
 * lengths; valid ones through the project's proto loading).
 */

import { connect } from 'node:net';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { heldOutDigits } from '../../examples/training/mnist-data.js';
import { oipGrpcServiceDefinition } from '../../src/protocol/oip-grpc/proto.js';

/** How one raw exchange ended. */
export interface RawAnswer {
  /** HTTP status, 0 when no answer came. */
  readonly status: number;
  /** From the first byte written to the answer's head. */
  readonly ms: number;
  /** From the last body byte handed to the kernel to the answer's head (0 if answered earlier). */
  readonly afterSentMs: number;
  readonly error?: string;
}

/** Sends `head` (with its blank line) and `body` on a new connection; resolves at the answer's head. */
export function rawExchange(
  url: string,
  head: string,
  body: Uint8Array | undefined,
  timeoutMs: number,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sentAt: number | undefined;
    let got = '';
    const socket = connect({ host: hostname, port: Number(port) });
    const finish = (status: number, error?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      const now = performance.now();
      const afterSentMs = sentAt === undefined ? 0 : Math.max(0, now - sentAt);
      resolve({ status, ms: now - t0, afterSentMs, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(0, `no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) finish(Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0));
    });
    socket.on('error', (err) => finish(0, err.message));
    socket.on('close', () => finish(0, 'closed without an answer'));
    socket.write(head);
    if (body) socket.write(body, () => (sentAt = performance.now()));
    else sentAt = performance.now();
  });
}

/** The head of a POST with a body of `length` bytes. */
export function postHead(path: string, length: number, headers: Record<string, string> = {}): string {
  const extra = Object.entries({ 'content-type': 'application/json', ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${length}\r\n${extra}\r\n`;
}

/** A held-out digit: 784 pixels and its label. */
export interface DigitSample {
  readonly pixels: readonly number[];
  readonly label: number;
}

/** The first `n` held-out digits. */
export function digits(n: number): DigitSample[] {
  return heldOutDigits()
    .slice(0, n)
    .map((d) => ({ pixels: Array.from(d.pixels), label: d.label }));
}

/** A valid request in one front end's format (path, headers, body). */
export interface HttpCase {
  readonly kind: 'oip-json' | 'oip-binary' | 'tfserving' | 'paddle';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** One digit as Triton's binary extension: JSON header, then 784 FP32 values. */
export function binaryDigit(pixels: readonly number[]): HttpCase {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'image', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: 784 * 4 } },
      ],
    }),
  );
  const data = Buffer.from(Float32Array.from(pixels).buffer);
  return {
    kind: 'oip-binary',
    path: '/v2/models/mnist/infer',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    },
    body: Buffer.concat([header, data]),
  };
}

/** One digit in each HTTP front end's format. */
export function httpCases(pixels: readonly number[]): HttpCase[] {
  const json = { 'content-type': 'application/json' };
  return [
    {
      kind: 'oip-json',
      path: '/v2/models/mnist/infer',
      headers: json,
      body: Buffer.from(
        JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 784], data: pixels }] }),
      ),
    },
    binaryDigit(pixels),
    {
      kind: 'tfserving',
      path: '/v1/models/mnist:predict',
      headers: json,
      body: Buffer.from(JSON.stringify({ instances: [pixels] })),
    },
    {
      kind: 'paddle',
      path: '/mnist/prediction',
      headers: json,
      body: Buffer.from(JSON.stringify({ feed: [{ image: pixels }], fetch: ['probs'] })),
    },
  ];
}

/** Index of the largest of ten probabilities. */
export function argmax(probs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  return best;
}

/** The class in any front end's JSON answer for one digit (undefined if the answer has none). */
export function classOf(answer: unknown): number | undefined {
  const a = answer as {
    outputs?: { data?: number[] }[];
    predictions?: unknown[];
    result?: { probs?: number[][] };
  };
  const row = a.outputs?.[0]?.data ?? a.predictions?.[0] ?? a.result?.probs?.[0];
  return Array.isArray(row) && row.length === 10 ? argmax(row as number[]) : undefined;
}

/**
 * What the model answers for each digit, asked once before a probe: the model is not always
 * right, so "wrong" means "not what it answers when nothing is wrong".
 */
export async function expectedClasses(url: string, sample: readonly DigitSample[]): Promise<number[]> {
  const out: number[] = [];
  for (const d of sample) {
    const c = httpCases(d.pixels)[0]!;
    const res = await fetch(`${url}${c.path}`, { method: 'POST', body: c.body, headers: c.headers });
    const k = classOf(await res.json());
    if (k === undefined) throw new Error(`no class in the reference answer (HTTP ${res.status})`);
    out.push(k);
  }
  return out;
}

// Protobuf by hand: varints and length-delimited fields are all these messages need.
/** A protobuf varint. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited protobuf field. */
export const field = (n: number, value: Buffer | string): Buffer => {
  const b = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((n << 3) | 2), varint(b.length), b]);
};

/** ModelInferRequest for mnist with one BYTES input of `count` empty `bytes_contents` entries. */
export function grpcEmptyBytes(count: number): Buffer {
  const contents = Buffer.alloc(count * 2); // tag 0x42 (field 8, bytes), length 0
  for (let i = 0; i < count; i += 1) contents[2 * i] = 0x42;
  const input = Buffer.concat([
    field(1, 'image'),
    field(2, 'BYTES'),
    field(3, varint(count)),
    field(5, contents),
  ]);
  return Buffer.concat([field(1, 'mnist'), field(5, input)]);
}

const infer = oipGrpcServiceDefinition()['ModelInfer']!;

/** A valid ModelInferRequest for one digit, serialised by the project's proto. */
export function grpcDigit(pixels: readonly number[]): Buffer {
  return infer.requestSerialize({
    model_name: 'mnist',
    inputs: [{ name: 'image', datatype: 'FP32', shape: ['1', '784'] }],
    raw_input_contents: [Buffer.from(Float32Array.from(pixels).buffer)],
  });
}

/** The class in a ModelInferResponse's bytes (undefined if it has no 10 FP32 values). */
export function grpcClassOf(bytes: Buffer): number | undefined {
  const msg = infer.responseDeserialize(bytes) as {
    raw_output_contents?: Buffer[];
    outputs?: { contents?: { fp32_contents?: number[] } }[];
  };
  const raw = msg.raw_output_contents?.[0];
  if (raw && raw.byteLength === 40)
    return argmax(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 40)));
  const fp = msg.outputs?.[0]?.contents?.fp32_contents;
  return fp?.length === 10 ? argmax(fp) : undefined;
}

/** How one gRPC call ended: `code` 0 is OK. */
export interface GrpcAnswer {
  readonly code: number;
  readonly details: string;
  readonly ms: number;
  readonly reply?: Buffer;
}

/** A gRPC client that sends and receives raw bytes (so a probe can send any message). */
export function rawGrpcClient(address: string): {
  call(method: string, bytes: Buffer, timeoutMs: number): Promise<GrpcAnswer>;
  close(): void;
} {
  const max = 512 * 1024 * 1024;
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_send_message_length': max,
    'grpc.max_receive_message_length': max,
  });
  const id = (b: Buffer): Buffer => b;
  return {
    call(method, bytes, timeoutMs) {
      const t0 = performance.now();
      return new Promise((resolve) => {
        client.makeUnaryRequest(
          `/inference.GRPCInferenceService/${method}`,
          id,
          id,
          bytes,
          new Metadata(),
          { deadline: Date.now() + timeoutMs },
          (err, reply) =>
            resolve({
              code: err?.code ?? 0,
              details: err?.details ?? '',
              ms: performance.now() - t0,
              ...(reply ? { reply } : {}),
            }),
        );
      });
    },
    close: () => client.close(),
  };
}
