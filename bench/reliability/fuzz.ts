/**
 * Probe: fuzz. A seeded mutational fuzzer over valid mnist requests in every front end (OIP JSON,
 * the binary extension, TF Serving, Paddle) and over gRPC ModelInfer messages. Held when no case
 * gets a 5xx that is not an overload (503) or no answer, and the server never exits; answers
 * slower than 1 s are counted. A crashed server is restarted (at most three times).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FlotillaProcess } from '../../test/helpers/flotilla-process.js';
import { BOUNDS } from './bounds.js';
import { mutate, pick, seeded } from './mutate.js';
import {
  exited,
  type Probe,
  type ProbeResult,
  pollHealth,
  serveMnist,
  stopQuietly,
  watchRss,
} from './shared.js';
import { digits, grpcDigit, httpCases, postHead, rawExchange, rawGrpcClient } from './wire.js';

/** gRPC codes that are a server fault (the 5xx of gRPC); RESOURCE_EXHAUSTED is overload. */
const GRPC_FAULTS = new Set<number>([
  GrpcStatus.INTERNAL,
  GrpcStatus.UNKNOWN,
  GrpcStatus.DATA_LOSS,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
]);

interface Tally {
  sent: number;
  faults: number;
  slow: number;
  crashes: number;
  readonly examples: string[];
}

const tally = (): Tally => ({ sent: 0, faults: 0, slow: 0, crashes: 0, examples: [] });

/** Rows fuzz-http and fuzz-grpc: the seeded cases alternate between the two. */
export const fuzz: Probe = async ({ scale, seed }) => {
  const rand = seeded(seed);
  const seeds = digits(4).flatMap((d) => httpCases(d.pixels));
  const grpcSeeds = digits(4).map((d) => grpcDigit(d.pixels));
  const http = tally();
  const grpc = tally();
  let server: FlotillaProcess = await serveMnist();
  const procs: FlotillaProcess[] = [server];
  const rss = watchRss(() => procs.filter((p) => !exited(p)).map((p) => p.proc.pid!), 100);
  let health = pollHealth(server.url);
  let client = rawGrpcClient(server.grpcAddress);
  let maxHealth = 0;
  const restart = async (t: Tally): Promise<boolean> => {
    t.crashes++;
    if (http.crashes + grpc.crashes > 3) return false;
    maxHealth = Math.max(maxHealth, (await health.stop()).maxMs);
    server = await serveMnist();
    procs.push(server);
    client.close();
    client = rawGrpcClient(server.grpcAddress);
    health = pollHealth(server.url);
    return true;
  };
  try {
    for (let i = 0; i < scale.fuzzCases; i++) {
      if (i % 2 === 0) {
        const base = seeds[pick(rand, seeds.length)]!;
        const kind = base.kind === 'oip-binary' ? 'binary' : 'json';
        const m = mutate(rand, base.body, kind);
        const headers = {
          ...base.headers,
          ...(m.headerLength !== undefined ? { 'inference-header-content-length': m.headerLength } : {}),
        };
        http.sent++;
        const a = await rawExchange(server.url, postHead(base.path, m.body.length, headers), m.body, 5000);
        if (a.status === 0 || (a.status >= 500 && a.status !== 503)) {
          http.faults++;
          if (http.examples.length < 3) http.examples.push(`${base.kind} ${m.what}: ${a.status || a.error}`);
        }
        if (a.ms > BOUNDS.fuzz.slowAnswerMs) http.slow++;
        if (exited(server) && !(await restart(http))) break;
      } else {
        const m = mutate(rand, grpcSeeds[pick(rand, grpcSeeds.length)]!, 'protobuf');
        grpc.sent++;
        const a = await client.call('ModelInfer', m.body, 5000);
        if (GRPC_FAULTS.has(a.code)) {
          grpc.faults++;
          if (grpc.examples.length < 3)
            grpc.examples.push(`${m.what}: ${GrpcStatus[a.code]} ${a.details.slice(0, 80)}`);
        }
        if (a.ms > BOUNDS.fuzz.slowAnswerMs) grpc.slow++;
        if (exited(server) && !(await restart(grpc))) break;
      }
    }
  } finally {
    maxHealth = Math.max(maxHealth, (await health.stop()).maxMs);
    client.close();
    await stopQuietly(server);
  }
  const r = rss.stop();
  const row = (name: string, t: Tally, what: string): ProbeResult => ({
    probe: name,
    sent: t.sent,
    failed: t.faults + t.crashes,
    wrong: t.slow,
    peakRssMb: r.peakRssMb,
    maxEventLoopDelayMs: maxHealth,
    held: t.faults === 0 && t.crashes === 0,
    bound: `seed ${seed}, ${t.sent} mutated ${what}: 0 ${name === 'fuzz-http' ? '5xx other than 503' : 'INTERNAL/UNKNOWN/DATA_LOSS/UNAVAILABLE'} or unanswered, 0 crashes`,
    detail: `${t.faults} faults, ${t.crashes} crashes, ${t.slow} answers > ${BOUNDS.fuzz.slowAnswerMs} ms${t.examples.length > 0 ? `; e.g. ${t.examples.join('; ')}` : ''}`,
  });
  return [
    row('fuzz-http', http, 'OIP JSON/binary, TF Serving, Paddle bodies'),
    row('fuzz-grpc', grpc, 'ModelInfer messages'),
  ];
};
