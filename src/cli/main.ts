import { Command, Option } from 'commander';
import { FlotillaError, UsageError } from '../core/index.js';
import { VERSION } from '../core/version.js';
import { addConnectionFlags, connectionFlags } from './connection-flags.js';
import { parseBytes, parseList, parsePort, parsePositiveInt, parseSeconds } from './parse-options.js';
import { markRequired, missingWhenBare, usageLine } from './required.js';
import { STANDBY_ARG, standby } from './standby.js';
import { addServerTlsFlags, serverTlsFiles } from './tls-flags.js';

/**
 * The other commands, loaded only when named (or for the full help): a replica started by
 * `flotilla up` runs `serve`, and every module it does not import shortens its cold start.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  bench: async () => (await import('./bench.js')).benchCommand(),
  tune: async () => (await import('./tune.js')).tuneCommand(),
  gateway: async () => (await import('./gateway.js')).gatewayCommand(),
  up: async () => (await import('./up.js')).upCommand(),
  status: async () => (await import('./admin-commands.js')).statusCommand(),
  scale: async () => (await import('./admin-commands.js')).scaleCommand(),
  rollout: async () => (await import('./admin-commands.js')).rolloutCommand(),
  render: async () => (await import('./render.js')).renderCommand(),
};

const program = new Command()
  .name('flotilla')
  .description(
    'Elastic ML model serving: model server, gateway, autoscaling, load testing, Kubernetes manifests.',
  )
  .version(VERSION);

const serveCommand = addServerTlsFlags(program.command('serve'), 'HTTP and gRPC')
  .description('Serve a model repository over the Open Inference Protocol v2 (HTTP and gRPC).')
  .option(
    '--model-repository <dir>',
    'repository folder: <dir>/<model>/config.yaml and numbered version folders',
  )
  .option(
    '--model-dir <dir>',
    "serve one model from its own folder instead of a repository: numbered version folders, or the model file itself (KServe's /mnt/models); config.yaml optional",
  )
  .option('--model-name <name>', 'the name clients call the --model-dir model by')
  .option('--http-port <port>', 'HTTP port (0 picks a free port and logs it)', parsePort, 8000)
  .option(
    '--port <port>',
    "one port for both, instead of --http-port and --grpc-port: REST over HTTP/1.1, gRPC and REST over HTTP/2 (h2c), told apart by the connection's first bytes (a Knative revision has one port); cleartext only",
    parsePort,
  )
  .option(
    '--grpc-port <port>',
    'gRPC port for KServe/Triton clients (inference.GRPCInferenceService) and TF Serving clients (tensorflow.serving.PredictionService, ModelService); 0 picks a free port and logs it',
    parsePort,
    8001,
  )
  .option(
    '--grpc-max-message <bytes>',
    'largest gRPC request message, e.g. 67108864 or 64MiB, as --max-body (larger: RESOURCE_EXHAUSTED); answers are not limited',
    parseBytes,
    64 * 1024 ** 2,
  )
  .option(
    '--host <address>',
    'address to bind; the data plane stays on loopback unless told otherwise',
    '127.0.0.1',
  )
  .option(
    '--models <names>',
    'comma-separated models to load, `name` or `name:version` to pin one version (default: every model in the repository)',
    parseList,
  )
  .option(
    '--model-config <model=file>',
    "read a model's config from this file instead of its config.yaml (repeatable; `flotilla tune` tries configs this way)",
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option(
    '--poll-interval <seconds>',
    'rescan the repository every N seconds for new or removed versions (0 = off)',
    parseSeconds,
    1,
  )
  .addOption(
    new Option(
      '--admin-token <token>',
      'bearer token for the repository endpoints (load, unload, index); without one they answer 403',
    ).env('FLOTILLA_ADMIN_TOKEN'),
  )
  .option(
    '--max-body <bytes>',
    'largest request body accepted, e.g. 67108864 or 64MiB (larger: 413)',
    parseBytes,
    64 * 1024 ** 2,
  );
addConnectionFlags(serveCommand)
  .addOption(
    new Option('--log-level <level>', 'log verbosity')
      .choices(['debug', 'info', 'warn', 'error', 'silent'])
      .default('info'),
  )
  .option(
    '--exit-with-parent',
    'drain and exit when standard input closes (how `flotilla up` keeps replicas from outliving it)',
  )
  .option(
    '--processes <n>',
    'server processes sharing the HTTP and gRPC ports, each loading every model: more cores for the HTTP work of small, fast models, which one Node thread bounds',
    parsePositiveInt,
    1,
  )
  .action(async (opts: Record<string, unknown>) => {
    const { modelSource } = await import('./serve-source.js');
    const source = modelSource({
      modelRepository: opts['modelRepository'] as string | undefined,
      modelDir: opts['modelDir'] as string | undefined,
      modelName: opts['modelName'] as string | undefined,
      models: opts['models'] as string[] | undefined,
    });
    if ('usage' in source) return serveCommand.error(`flotilla serve: ${source.usage}`, { exitCode: 2 });
    const port = opts['port'] as number | undefined;
    const tls = serverTlsFiles(opts);
    if (port !== undefined) {
      const split = ['httpPort', 'grpcPort'].some((k) => serveCommand.getOptionValueSource(k) === 'cli');
      const why = split
        ? '--port serves HTTP and gRPC on one port: drop --http-port and --grpc-port'
        : tls
          ? '--port serves cleartext only (in a cluster the mesh or ingress terminates TLS): drop --tls-cert'
          : undefined;
      if (why) return serveCommand.error(`flotilla serve: ${why}`, { exitCode: 2 });
    }
    const { serve } = await import('./serve.js');
    await serve({
      source,
      httpPort: opts['httpPort'] as number,
      port,
      grpcPort: opts['grpcPort'] as number,
      grpcMaxMessage: opts['grpcMaxMessage'] as number,
      host: opts['host'] as string,
      ...(opts['models'] ? { models: opts['models'] as string[] } : {}),
      ...(opts['modelConfig'] ? { modelConfigs: opts['modelConfig'] as string[] } : {}),
      pollInterval: opts['pollInterval'] as number,
      ...(opts['adminToken'] ? { adminToken: opts['adminToken'] as string } : {}),
      maxBody: opts['maxBody'] as number,
      ...connectionFlags(opts),
      logLevel: opts['logLevel'] as 'info',
      exitWithParent: opts['exitWithParent'] === true,
      processes: opts['processes'] as number,
      tls,
    });
  });

async function main(): Promise<void> {
  if (process.argv[2] === STANDBY_ARG) {
    const args = await standby();
    process.argv.splice(2, process.argv.length - 2, 'serve', ...args);
  }
  const named = process.argv[2];
  const wanted =
    named !== undefined && named in COMMANDS
      ? [COMMANDS[named]!]
      : named === 'serve'
        ? []
        : Object.values(COMMANDS);
  for (const load of wanted) program.addCommand(await load());
  markRequired(program);
  const command = program.commands.find((c) => c.name() === named);
  const missing = command && process.argv.length === 3 ? missingWhenBare(command, process.env) : [];
  if (command && missing.length > 0) {
    // Nothing given: name everything missing at once, with the usage, not the first complaint.
    process.stderr.write(
      `flotilla ${named}: missing ${missing.join(', ')}\nUsage: flotilla ${named} ${usageLine(command)}\nRun \`flotilla ${named} --help\` for every option.\n`,
    );
    process.exit(2);
  }
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  // A flag that cannot work (a busy port, a repository without the models asked for): one line
  // naming the command and the flag, exit 2 like a usage error.
  if (err instanceof UsageError) {
    const command = process.argv[2] ?? '';
    process.stderr.write(
      `flotilla${command in COMMANDS || command === 'serve' ? ` ${command}` : ''}: ${err.message}\n`,
    );
    process.exit(2);
  }
  const message =
    err instanceof FlotillaError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`flotilla: ${message}\n`);
  process.exit(1);
});
