import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  BenchArgumentError,
  type BenchContext,
  type BenchFlags,
  BenchUnreachableError,
  benchCsv,
  benchHtml,
  benchJson,
  benchTable,
  countCorrect,
  endpointsFromFlags,
  eventLine,
  GrpcTarget,
  HTTP_TARGET_CAPTURE,
  HttpPool,
  HttpTarget,
  type ModelMetadata,
  type ModelRef,
  PROTOCOLS,
  parseHeaders,
  parseModelMetadata,
  planFromFlags,
  progressLine,
  runBench,
  selectPayloads,
  type Target,
} from '../bench/index.js';
import { OipGrpcClient, OipGrpcError, OipHttpClient, OipHttpError } from '../client/index.js';
import { FlotillaError, NotFoundError, seededRandom, systemClock } from '../core/index.js';
import { type ClientTls, connectOptions } from '../tls/index.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function number(min: number, integer: boolean, what: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)) || text.trim() === '')
      throw new InvalidArgumentError(`expected ${what}, got "${text}"`);
    return n;
  };
}

function fraction(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError(`expected a rate 0-1, got "${text}"`);
  return n;
}

/** Reads a flag's file, naming the flag when it cannot. */
function readFlagFile(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new BenchArgumentError(`${flag} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** `--tls-ca` and `--insecure`: how `https://` and `grpcs://` endpoints are trusted. */
function benchTls(f: BenchFlags): ClientTls {
  const ca = f.tlsCa === undefined ? undefined : Buffer.from(readFlagFile('--tls-ca', f.tlsCa));
  return { ...(ca ? { ca } : {}), rejectUnauthorized: f.insecure !== true };
}

/** A gRPC client for `host:port`, or over TLS for `grpcs://host:port`. */
function grpcClient(endpoint: string, tls: ClientTls): OipGrpcClient {
  const secure = endpoint.startsWith('grpcs://');
  return new OipGrpcClient({ address: endpoint.replace(/^grpcs:\/\//, ''), ...(secure ? { tls } : {}) });
}

/** Metadata from one endpoint, turning "no answer" and "no such model" into the errors that exit 2. */
async function fetchMetadata(f: BenchFlags, endpoint: string, tls: ClientTls): Promise<ModelMetadata> {
  const v = f.modelVersion === undefined ? '' : `/versions/${encodeURIComponent(f.modelVersion)}`;
  const what = `model "${f.model}"${f.modelVersion === undefined ? '' : ` version ${f.modelVersion}`}`;
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${f.timeout} ms`)), f.timeout).unref(),
  );
  if (f.protocol === 'grpc') {
    const client = grpcClient(endpoint, tls);
    try {
      const m = await Promise.race([client.modelMetadata(f.model, f.modelVersion), timeout]);
      return parseModelMetadata(m, `gRPC ModelMetadata at ${endpoint}`);
    } catch (err) {
      if (err instanceof OipGrpcError && err.status === 5)
        throw new NotFoundError('FLT_MODEL_NOT_FOUND', `${what} not found at ${endpoint}: ${err.message}`);
      if (err instanceof OipGrpcError && err.status !== 14)
        throw new BenchArgumentError(`${what} at ${endpoint}: ${err.message}`);
      // grpc-js appends a multi-line resolution note: the first sentence says what failed.
      const message = (err as Error).message.split(/\n|\. Resolution note/)[0];
      throw new BenchUnreachableError(`cannot reach ${endpoint}: ${message}`, { cause: err });
    } finally {
      client.close();
    }
  }
  const client = new OipHttpClient({ baseUrl: endpoint, connections: 1, tls });
  try {
    const m = await Promise.race([client.getJson(`/v2/models/${encodeURIComponent(f.model)}${v}`), timeout]);
    return parseModelMetadata(m, `GET ${endpoint}/v2/models/${f.model}${v}`);
  } catch (err) {
    if (err instanceof OipHttpError && err.status === 404)
      throw new NotFoundError('FLT_MODEL_NOT_FOUND', `${what} not found at ${endpoint}: ${err.message}`);
    if (err instanceof OipHttpError) throw new BenchArgumentError(`${what} at ${endpoint}: ${err.message}`);
    if (err instanceof FlotillaError) throw err;
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new BenchUnreachableError(`cannot reach ${endpoint}: ${cause ?? (err as Error).message}`, {
      cause: err,
    });
  } finally {
    void client.close();
  }
}

/** Runs `flotilla bench`; resolves with the exit code (2: bad arguments or unreachable target). */
export async function bench(f: BenchFlags): Promise<number> {
  try {
    return await run(f);
  } catch (err) {
    if (
      err instanceof FlotillaError &&
      (err.code.startsWith('FLT_BENCH_') || err.code === 'FLT_MODEL_NOT_FOUND')
    ) {
      process.stderr.write(`flotilla bench: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function run(f: BenchFlags): Promise<number> {
  const plan = planFromFlags(f);
  const endpoints = endpointsFromFlags(f);
  const headers = parseHeaders(f.header ?? []);
  const tls = benchTls(f);
  const metas = await Promise.all(endpoints.map((e) => fetchMetadata(f, e, tls)));
  const meta = metas[0]!;
  const { payloads, source, labelOutput } = selectPayloads(f, meta, readFlagFile);
  const ref: ModelRef = {
    model: f.model,
    ...(f.modelVersion !== undefined ? { version: f.modelVersion } : {}),
    outputs: meta.outputs,
  };
  const check =
    labelOutput === undefined
      ? undefined
      : (i: number, outputs: Parameters<typeof countCorrect>[0]) => {
          const labels = payloads[i]!.labels ?? [];
          return { labeled: labels.length, correct: countCorrect(outputs, labelOutput, labels) ?? 0 };
        };
  const mode = plan.mode;
  const peak =
    mode.kind === 'closed'
      ? Math.max(...mode.levels)
      : mode.kind === 'users'
        ? mode.users
        : mode.kind === 'open'
          ? 256
          : 1;
  const connections = f.connections ?? Math.ceil(peak / f.pipelining);
  const tensors = payloads.map((p) => p.inputs);
  const targets: Target[] = endpoints.map((endpoint) => {
    if (f.protocol === 'grpc') {
      const client = grpcClient(endpoint, tls);
      return new GrpcTarget(
        { address: endpoint, ref, payloads: tensors, ...(check ? { check } : {}) },
        { client },
      );
    }
    const url = new URL(endpoint);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const https = url.protocol === 'https:';
    const pool = new HttpPool({
      host,
      port: Number(url.port || (https ? 443 : 80)),
      ...(https ? { tls: connectOptions(tls, host) } : {}),
      connections,
      pipelining: f.pipelining,
      timeoutMs: f.timeout,
      keepBody: check !== undefined,
      capture: HTTP_TARGET_CAPTURE,
    });
    return new HttpTarget(
      { url: endpoint, protocol: f.protocol, ref, payloads: tensors, headers, ...(check ? { check } : {}) },
      { pool },
    );
  });
  const ctx: BenchContext = {
    model: f.model,
    ...(f.modelVersion !== undefined ? { version: f.modelVersion } : {}),
    protocol: f.protocol,
    endpoints: targets.map((t) => t.name),
    payload: source,
    payloads: payloads.length,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    plan,
  };
  const tty = process.stderr.isTTY === true;
  const progress = f.progress ?? tty;
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  const started = process.cpuUsage();
  let result: Awaited<ReturnType<typeof runBench>>;
  try {
    result = await runBench(plan, {
      targets,
      payloads: payloads.length,
      clock: systemClock,
      random: seededRandom(f.seed),
      signal: abort.signal,
      ...(progress
        ? {
            onWindow: (w, value) =>
              process.stderr.write(
                tty ? `\r\x1b[2K${progressLine(w, value, ctx)}` : `${progressLine(w, value, ctx)}\n`,
              ),
          }
        : {}),
      onEvent: (e) => process.stderr.write(`${tty && progress ? '\n' : ''}${eventLine(e)}\n`),
    });
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all(targets.map((t) => t.close()));
  }
  if (progress && tty) process.stderr.write('\n');
  const cpu = process.cpuUsage(started);
  const json = {
    ...benchJson(result, ctx),
    client_cpu_us_per_request:
      result.requests === 0 ? 0 : Math.round(((cpu.user + cpu.system) / result.requests) * 100) / 100,
  };
  const written: string[] = [];
  const write = (file: string | undefined, text: () => string): void => {
    if (file === undefined) return;
    writeFileSync(file, text());
    written.push(resolve(file));
  };
  write(f.json, () => `${JSON.stringify(json, null, 2)}\n`);
  write(f.csv, () => benchCsv(result, ctx));
  write(f.html, () => benchHtml(result, ctx));
  process.stdout.write(benchTable(result, ctx));
  // Where every report went, so it can be opened without searching (relative paths resolved).
  for (const file of written) process.stdout.write(`wrote ${file}\n`);
  if (result.requests > 0 && result.errors === result.requests) {
    const first = result.errorKinds.keys().next().value ?? 'failed';
    process.stderr.write(`flotilla bench: every request failed (${first})\n`);
    return 1;
  }
  return 0;
}

/** The `flotilla bench` command: flags, defaults and help (docs/bench.md documents each flag). */
export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'Load-test a model server or gateway: closed loop, open loop, users; SLO switching; accuracy.',
    )
    .requiredOption('--model <name>', 'model to send requests to')
    .option('--model-version <version>', 'model version (default: the newest ready one)')
    .option(
      '--url <url>',
      'HTTP or HTTPS base URL of a server or gateway (a path is a prefix)',
      'http://127.0.0.1:8000',
    )
    .option(
      '--grpc-url <host:port>',
      'gRPC address for --protocol grpc (grpcs://host:port: gRPC over TLS)',
      '127.0.0.1:8001',
    )
    .option(
      '--tls-ca <file>',
      "PEM CA bundle trusted for https:// and grpcs:// endpoints (default: Node's roots)",
    )
    .option('--insecure', 'do not verify TLS certificates (self-signed test servers only)')
    .addOption(new Option('--protocol <protocol>', 'wire protocol').choices(PROTOCOLS).default('oip'))
    .option(
      '--endpoints <list>',
      'comma-separated endpoints to switch between on SLO violations (replaces --url/--grpc-url)',
      (t) =>
        t
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    )
    .option(
      '--input-data <file>',
      'payload from a JSON file: an OIP request body or {name: {datatype, shape, data}}',
    )
    .option(
      '--dataset <file>',
      'labeled payloads, JSON lines {"inputs": {...}, "label": "7"}: reports accuracy',
    )
    .option(
      '--label-output <name>',
      'output checked against the labels (argmax, or BYTES text); default: the only output',
    )
    .option(
      '--shape <name:dims>',
      "shape of a random input, e.g. image:1,784 (repeatable); default: a free batch dimension is 1, other free dimensions take the model's typical_shapes",
      collect,
    )
    .option(
      '--header <name:value>',
      'extra request header, e.g. host:mnist.example.com (repeatable)',
      collect,
    )
    .option('--concurrency <sweep>', 'closed loop: users, start[:end[:step]], e.g. 1:16:2')
    .option('--request-rate <sweep>', 'open loop: requests/s, start[:end[:step]], e.g. 100:500:100')
    .addOption(
      new Option('--distribution <kind>', 'open-loop spacing (default constant)').choices([
        'constant',
        'poisson',
      ]),
    )
    .option('--users <n>', 'locust-style users (needs --duration)', number(1, true, 'users >= 1'))
    .option(
      '--spawn-rate <n>',
      'users started per second with --users (default 1)',
      number(Number.MIN_VALUE, false, 'users/s > 0'),
    )
    .option(
      '--duration <seconds>',
      'run length with --users; fixed length of each level otherwise',
      number(Number.MIN_VALUE, false, 'seconds > 0'),
    )
    .option(
      '--warmup <seconds>',
      'load each --concurrency/--request-rate level this long before measuring it (default 0)',
      number(0, false, 'seconds >= 0'),
    )
    .option(
      '--requests <n>',
      'send exactly n requests (alone: one after the other; with --concurrency: n per level)',
      number(1, true, 'requests >= 1'),
    )
    .option('--measurement-interval <ms>', 'window length', number(10, false, 'ms >= 10'), 5000)
    .option(
      '--max-windows <n>',
      'windows per level before giving up on stability',
      number(1, true, 'windows >= 1'),
      10,
    )
    .option(
      '--stability-percentage <pct>',
      'last 3 windows within this % of their mean count as stable',
      number(0, false, 'a percentage >= 0'),
      10,
    )
    .option(
      '--latency-threshold <ms>',
      'requests slower than this (or failed) violate the SLO',
      number(Number.MIN_VALUE, false, 'ms > 0'),
    )
    .option(
      '--max-violation-rate <rate>',
      'a window over this violation rate (0-1) switches to the next endpoint',
      fraction,
    )
    .option(
      '--connections <n>',
      'HTTP sockets per endpoint (default: peak users / pipelining; 256 open loop)',
      number(1, true, 'connections >= 1'),
    )
    .option('--pipelining <n>', 'HTTP requests in flight per socket', number(1, true, 'a depth >= 1'), 1)
    .option(
      '--timeout <ms>',
      'HTTP: a socket with requests in flight and nothing received this long fails them; also bounds the metadata call',
      number(1, false, 'ms >= 1'),
      30000,
    )
    .option(
      '--max-in-flight <n>',
      'open loop: requests beyond this many in flight fail at once',
      number(1, true, 'n >= 1'),
      10000,
    )
    .option(
      '--seed <n>',
      'seed of the random payload and the poisson schedule',
      number(0, true, 'an integer >= 0'),
      1,
    )
    .option('--json <file>', 'write the full results as JSON')
    .option('--csv <file>', 'write one row per load level as CSV')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--progress', 'print a line per window on stderr even when it is not a terminal')
    .exitOverride((err) => {
      // Commander has printed the message; a flag it rejected is a usage error like ours: exit 2.
      process.exit(err.exitCode === 0 ? 0 : 2);
    })
    .action(async (opts: BenchFlags) => {
      process.exitCode = await bench(opts);
    });
}
