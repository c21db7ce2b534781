import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ConfigError, createLogger, silentLogger } from '../core/index.js';
import { LOCAL_ORCHESTRATOR_DEFAULTS, LocalOrchestrator, type ReplicaInfo } from '../orchestrator/index.js';
import { parseModelConfigYaml } from '../spec/index.js';
import {
  bestMeasurement,
  candidateConfig,
  describeCandidate,
  type TuneCandidate,
  type TuneMeasurement,
  tuneCandidates,
} from '../tune/index.js';

const CLI = fileURLToPath(new URL('../../../bin/flotilla.js', import.meta.url));
const run = promisify(execFile);

interface TuneOptions {
  readonly modelRepository: string;
  readonly model: string;
  readonly modelVersion?: string;
  readonly latencyThreshold?: number;
  readonly concurrency: string;
  readonly duration: number;
  readonly protocol: string;
  readonly output?: string;
  readonly json?: string;
}

interface BenchLevel {
  readonly concurrency: number;
  readonly throughput: number;
  readonly errors: number;
  readonly latency_ms: { readonly p50: number; readonly p99: number };
}

/** Starts one `flotilla serve` replica with the candidate's config and resolves with its address. */
async function startCandidate(
  o: LocalOrchestrator,
  opts: TuneOptions,
  configFile: string,
  id: string,
): Promise<ReplicaInfo> {
  const ready = new Promise<ReplicaInfo>((resolveReady, reject) => {
    const stop = o.watch((e) => {
      if (e.replica.variant !== id) return;
      if (e.type === 'ready') resolveReady(e.replica);
      if (e.type === 'crashed') reject(new Error(`the server did not start: ${e.detail}`));
      if (e.type === 'ready' || e.type === 'crashed') stop();
    });
  });
  o.apply(id, {
    kind: 'model',
    repository: opts.modelRepository,
    model: opts.model,
    ...(opts.modelVersion ? { version: Number(opts.modelVersion) } : {}),
    args: ['--model-config', `${opts.model}=${configFile}`],
  });
  o.scale(id, 1);
  return ready;
}

/** Loads one candidate with `flotilla bench` (the real CLI) and returns its levels. */
async function benchCandidate(opts: TuneOptions, address: string, jsonFile: string): Promise<BenchLevel[]> {
  const args = [
    CLI,
    'bench',
    '--url',
    `http://${address}`,
    '--model',
    opts.model,
    '--protocol',
    opts.protocol,
  ];
  // Each level warms up first: the first candidate would otherwise pay for the JIT and connections.
  args.push('--concurrency', opts.concurrency, '--duration', String(opts.duration), '--warmup', '0.5');
  args.push('--json', jsonFile);
  if (opts.modelVersion) args.push('--model-version', opts.modelVersion);
  await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  return (JSON.parse(readFileSync(jsonFile, 'utf8')) as { levels: BenchLevel[] }).levels;
}

function table(results: readonly TuneMeasurement[], best: TuneMeasurement | undefined): string {
  const width = Math.max(
    'configuration'.length,
    ...results.map((r) => describeCandidate(r.candidate).length),
  );
  const rows = results.map((r) => {
    const mark = r === best ? ' <- best' : '';
    return `${describeCandidate(r.candidate).padEnd(width)} ${String(r.concurrency).padStart(5)} ${r.throughput.toFixed(1).padStart(10)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.errors).padStart(6)}${mark}`;
  });
  return [
    `${'configuration'.padEnd(width)} ${'conc.'.padStart(5)} ${'infer/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(6)}`,
    ...rows,
  ].join('\n');
}

async function tune(opts: TuneOptions): Promise<void> {
  const modelDir = join(opts.modelRepository, opts.model);
  const configPath = join(modelDir, 'config.yaml');
  if (!existsSync(modelDir)) throw new ConfigError(opts.modelRepository, `no model folder ${opts.model}`);
  const text = existsSync(configPath) ? readFileSync(configPath, 'utf8') : '';
  const config = parseModelConfigYaml(text, configPath);
  const raw = (parseYaml(text) as Record<string, unknown> | null) ?? {};
  const candidates = tuneCandidates(availableParallelism(), config.maxBatchSize, config.backend);
  const logger = createLogger('info');
  logger.info('tuning', {
    model: opts.model,
    candidates: candidates.length,
    concurrency: opts.concurrency,
    durationS: opts.duration,
  });
  const work = mkdtempSync(join(tmpdir(), 'flotilla-tune-'));
  const orchestrator = new LocalOrchestrator(LOCAL_ORCHESTRATOR_DEFAULTS, {
    logger: silentLogger,
    now: () => performance.now(),
  });
  const results: TuneMeasurement[] = [];
  const configs = new Map<TuneCandidate, Record<string, unknown>>();
  try {
    for (const [i, candidate] of candidates.entries()) {
      const merged = { ...raw, ...candidateConfig(candidate) };
      configs.set(candidate, merged);
      const file = join(work, `candidate-${i}.yaml`);
      writeFileSync(file, stringifyYaml(merged));
      const id = `tune/${i}`;
      const replica = await startCandidate(orchestrator, opts, file, id);
      try {
        const levels = await benchCandidate(opts, replica.address!, join(work, `bench-${i}.json`));
        for (const l of levels) {
          results.push({
            candidate,
            concurrency: l.concurrency,
            throughput: l.throughput,
            p50Ms: l.latency_ms.p50,
            p99Ms: l.latency_ms.p99,
            errors: l.errors,
          });
        }
        const top = Math.max(...levels.map((l) => l.throughput));
        logger.info('measured', {
          candidate: describeCandidate(candidate),
          bestInferencesPerS: Math.round(top),
        });
      } finally {
        orchestrator.scale(id, 0);
      }
    }
  } finally {
    await orchestrator.close();
    rmSync(work, { recursive: true, force: true });
  }
  const best = bestMeasurement(results, opts.latencyThreshold);
  process.stdout.write(`${table(results, best)}\n\n`);
  if (opts.json)
    writeFileSync(
      opts.json,
      `${JSON.stringify({ model: opts.model, latencyThresholdMs: opts.latencyThreshold ?? null, results, best: best ?? null }, null, 2)}\n`,
    );
  if (!best) {
    process.stderr.write(
      `flotilla tune: no configuration met p99 <= ${opts.latencyThreshold} ms without errors\n`,
    );
    process.exitCode = 1;
    return;
  }
  const chosen = `# Chosen by flotilla tune: ${describeCandidate(best.candidate)}; ${best.throughput.toFixed(1)} inferences/s at concurrency ${best.concurrency}, p99 ${best.p99Ms.toFixed(2)} ms.\n${stringifyYaml(configs.get(best.candidate))}`;
  if (opts.output) {
    writeFileSync(opts.output, chosen);
    process.stdout.write(`best configuration written to ${opts.output}\n`);
  } else {
    process.stdout.write(chosen);
  }
}

const positive =
  (what: string) =>
  (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected ${what} > 0, got "${text}"`);
    return n;
  };

/** `flotilla tune MODEL`: Model Analyzer in miniature. */
export function tuneCommand(): Command {
  return new Command('tune')
    .description(
      'Try instances, threads and dynamic batching for a model under load and write the best config that meets a latency SLO.',
    )
    .argument('<model>', 'model folder in the repository')
    .requiredOption('--model-repository <dir>', 'the repository holding the model')
    .option(
      '--model-version <version>',
      'version to load and measure (default: what its policy serves, newest)',
    )
    .option(
      '--latency-threshold <ms>',
      'p99 latency the chosen configuration must stay within',
      positive('milliseconds'),
    )
    .option(
      '--concurrency <sweep>',
      'closed-loop concurrency levels for every candidate (flotilla bench syntax)',
      '4:32:14',
    )
    .option('--duration <seconds>', 'measurement time per concurrency level', positive('seconds'), 3)
    .option('--protocol <protocol>', 'protocol the load uses (flotilla bench --protocol)', 'oip-binary')
    .option('--output <file>', 'write the chosen config.yaml here (default: print it)')
    .option('--json <file>', 'write every measurement as JSON')
    .action(async (model: string, o: Record<string, unknown>) => {
      await tune({
        model,
        modelRepository: resolve(o['modelRepository'] as string),
        ...(o['modelVersion'] ? { modelVersion: o['modelVersion'] as string } : {}),
        ...(o['latencyThreshold'] !== undefined ? { latencyThreshold: o['latencyThreshold'] as number } : {}),
        concurrency: o['concurrency'] as string,
        duration: o['duration'] as number,
        protocol: o['protocol'] as string,
        ...(o['output'] ? { output: o['output'] as string } : {}),
        ...(o['json'] ? { json: o['json'] as string } : {}),
      });
    });
}
