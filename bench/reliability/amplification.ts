/**
 * Probe: amplification (issue 19, finding 1). One request of millions of empty BYTES elements to
 * mnist (whose input is FP32 [-1, 784]) as Triton's binary extension, as JSON `""` elements and as
 * gRPC `bytes_contents`. A hardened server checks datatype and shape before decoding anything per
 * element: a 4xx (INVALID_ARGUMENT) at once, little memory, `/v2/health/live` never kept waiting.
 * A case that does not hold gets the next case a fresh server, so one stuck or crashed server
 * cannot hide the next case.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FlotillaProcess } from '../../test/helpers/flotilla-process.js';
import { BOUNDS, type RunScale } from './bounds.js';
import {
  exited,
  mb,
  type Probe,
  type ProbeResult,
  pollHealth,
  serveMnist,
  sleep,
  stopQuietly,
  watchRss,
} from './shared.js';
import { grpcEmptyBytes, postHead, rawExchange, rawGrpcClient } from './wire.js';

const MiB = 1024 * 1024;
const PATH = '/v2/models/mnist/infer';

/** `count` empty BYTES elements as the binary extension (4-byte LE length each, all zero). */
function binaryBody(bytes: number): { body: Buffer; headerLength: number; count: number } {
  const count = Math.floor(bytes / 4);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'image', datatype: 'BYTES', shape: [count], parameters: { binary_data_size: count * 4 } },
      ],
    }),
  );
  const body = Buffer.alloc(header.length + count * 4);
  header.copy(body);
  return { body, headerLength: header.length, count };
}

/** About `bytes` of JSON: `count` empty strings in `data`. */
function jsonBody(bytes: number): { body: Buffer; count: number } {
  const count = Math.floor((bytes - 100) / 3);
  const head = `{"inputs":[{"name":"image","datatype":"BYTES","shape":[${count}],"data":[`;
  return { body: Buffer.from(`${head}${'"",'.repeat(count - 1)}""]}]}`), count };
}

interface CaseOutcome {
  readonly ok: boolean;
  readonly answer: string;
  readonly ms: number;
}

/** The server the cases share while each holds; a case that does not gets the next a fresh one. */
interface ServerSlot {
  server?: FlotillaProcess;
}

/** Runs one case: watches RSS and health while `send` runs. */
async function runCase(
  slot: ServerSlot,
  name: string,
  bound: { answerMs: number; extraRssMb: number; healthMs: number },
  boundText: string,
  send: (server: { url: string; grpcAddress: string }) => Promise<CaseOutcome>,
): Promise<ProbeResult> {
  const server = slot.server ?? (await serveMnist());
  slot.server = server;
  let stuck = true;
  try {
    const rss = watchRss(() => [server.proc.pid!]);
    const health = pollHealth(server.url);
    const out = await send(server);
    // A connection cut by a dying server arrives before its exit: give the exit a moment to land.
    if (!out.ok) await sleep(300);
    const h = await health.stop();
    const r = rss.stop();
    const crashed = exited(server) || r.killed.length > 0;
    stuck = !out.ok || crashed;
    const held =
      out.ok &&
      !crashed &&
      out.ms <= bound.answerMs &&
      r.extraRssMb <= bound.extraRssMb &&
      h.maxMs <= bound.healthMs;
    return {
      probe: `amplification-${name}`,
      sent: 1,
      failed: out.ok ? 0 : 1,
      wrong: 0,
      peakRssMb: r.peakRssMb,
      maxEventLoopDelayMs: h.maxMs,
      held,
      bound: boundText,
      detail: `${out.answer} ${Math.round(out.ms)} ms after sent, +${mb(r.extraRssMb)}${crashed ? ', server crashed' : ''}`,
    };
  } finally {
    // A server still decoding would drain for as long again: end it at once, start afresh.
    if (stuck) {
      delete slot.server;
      await stopQuietly({ proc: server.proc, stop: () => server.stop('SIGKILL') });
    }
  }
}

/** Rows amplification-binary, -json and -grpc: one oversized request each. */
export const amplification: Probe = async ({ scale }) => {
  const rows: ProbeResult[] = [];
  const slot: ServerSlot = {};
  try {
    rows.push(...(await cases(slot, scale)));
  } finally {
    await stopQuietly(slot.server);
  }
  return rows;
};

async function cases(slot: ServerSlot, scale: RunScale): Promise<ProbeResult[]> {
  const B = BOUNDS.amplification;
  const timeout = scale.amplificationTimeoutMs;
  const rows: ProbeResult[] = [];
  const bin = binaryBody(scale.binaryMiB * MiB);
  const binHead = postHead(PATH, bin.body.length, {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(bin.headerLength),
  });
  rows.push(
    await runCase(
      slot,
      'binary',
      B.binary,
      `${scale.binaryMiB} MiB binary, ${bin.count} empty BYTES: 4xx ≤ ${B.binary.answerMs} ms after sent, +RSS ≤ ${B.binary.extraRssMb} MB, health ≤ ${B.binary.healthMs} ms`,
      async ({ url }) => {
        const a = await rawExchange(url, binHead, bin.body, timeout);
        return {
          ok: a.status >= 400 && a.status < 500,
          answer: a.error ?? `HTTP ${a.status}`,
          ms: a.afterSentMs,
        };
      },
    ),
  );

  const json = jsonBody(scale.jsonMiB * MiB);
  // Calibration: what JSON.parse of this body costs here; the server may not do much worse.
  // The faster of two parses: the first may pay for a GC the server would not.
  let parseMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    JSON.parse(json.body.toString('utf8'));
    parseMs = Math.min(parseMs, performance.now() - t0);
  }
  const jsonMs = Math.round(B.json.parseFactor * parseMs + B.json.slackMs);
  const jsonHead = postHead(PATH, json.body.length);
  rows.push(
    await runCase(
      slot,
      'json',
      { answerMs: jsonMs, extraRssMb: B.json.extraRssMb, healthMs: jsonMs },
      `${scale.jsonMiB} MiB JSON, ${json.count} "" elements: 4xx and health ≤ ${B.json.parseFactor} × JSON.parse here (${Math.round(parseMs)} ms) + ${B.json.slackMs} ms = ${jsonMs} ms, +RSS ≤ ${B.json.extraRssMb} MB`,
      async ({ url }) => {
        const a = await rawExchange(url, jsonHead, json.body, timeout);
        return {
          ok: a.status >= 400 && a.status < 500,
          answer: a.error ?? `HTTP ${a.status}`,
          ms: a.afterSentMs,
        };
      },
    ),
  );

  const message = grpcEmptyBytes(scale.grpcElements);
  rows.push(
    await runCase(
      slot,
      'grpc',
      B.grpc,
      `gRPC ModelInfer, ${scale.grpcElements} empty bytes_contents (${Math.round(message.length / MiB)} MiB): INVALID_ARGUMENT or RESOURCE_EXHAUSTED ≤ ${B.grpc.answerMs} ms, +RSS ≤ ${B.grpc.extraRssMb} MB, health ≤ ${B.grpc.healthMs} ms`,
      async ({ grpcAddress }) => {
        const client = rawGrpcClient(grpcAddress);
        try {
          const a = await client.call('ModelInfer', message, timeout);
          const ok = a.code === GrpcStatus.INVALID_ARGUMENT || a.code === GrpcStatus.RESOURCE_EXHAUSTED;
          return { ok, answer: `${GrpcStatus[a.code]}`, ms: a.ms };
        } finally {
          client.close();
        }
      },
    ),
  );
  return rows;
}
