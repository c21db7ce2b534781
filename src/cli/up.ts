import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { createLogger, type Logger, type LogLevel, systemClock, systemRandom } from '../core/index.js';
import { FLEET_DEFAULTS, Fleet, type FleetTimers } from '../fleet/index.js';
import { Gateway, handleAdmin } from '../gateway/index.js';
import {
  estimateReplicaCost,
  LOCAL_ORCHESTRATOR_DEFAULTS,
  LocalOrchestrator,
} from '../orchestrator/index.js';
import { type ServerTlsFiles, scheme } from '../tls/index.js';
import { DASHBOARD_PATH, dashboardFor } from './dashboard.js';
import { parsePort, parsePositiveInt } from './parse-options.js';
import { checkPorts, upPorts } from './ports.js';
import { balancerFactory, readServiceFile } from './service-file.js';
import { addServerTlsFlags, serverTlsFiles, watchCertificates } from './tls-flags.js';
import { cliCommand, upBanner } from './up-banner.js';
import { removeUpContext, writeUpContext } from './up-context.js';

/** Flags of `flotilla up`, parsed. */
export interface UpOptions {
  readonly file: string;
  readonly port: number;
  readonly grpcPort?: number;
  readonly adminPort?: number;
  readonly host: string;
  readonly adminToken?: string;
  readonly activatorQueue: number;
  readonly activatorTimeoutMs: number;
  /** Longest a SIGTERM/SIGINT drain may take before every replica is killed (exit 1). */
  readonly drainTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** Serve the gateway's HTTP and gRPC listeners over TLS with these files (replicas stay plain). */
  readonly tls?: ServerTlsFiles | undefined;
}

/** The defaults of `flotilla up`'s own flags. */
export const UP_DEFAULTS = Object.freeze({
  drainTimeoutMs: 30_000,
});

const realTimers: FleetTimers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};

const wallClock = { now: (): number => Date.now() };

function listenAdmin(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res(server.address() as AddressInfo));
  });
}

/**
 * Runs a service file on this machine: the gateway, every managed variant's replicas as child
 * processes, the autoscaler, the activator and rollouts. SIGTERM/SIGINT drain everything and
 * leave no child process behind.
 */
export async function up(options: UpOptions): Promise<void> {
  const logger: Logger = createLogger(options.logLevel);
  await checkPorts(options.host, upPorts(options));
  const path = resolve(options.file);
  const file = await readServiceFile(path);
  // A laptop needs no token ceremony: one is made up and written to the context file (mode 0600).
  const token = options.adminToken ?? randomBytes(18).toString('base64url');
  const random = systemRandom;
  const tls = watchCertificates(options.tls, logger);
  const gateway = new Gateway(
    file,
    {
      host: options.host,
      port: options.port,
      grpcPort: options.grpcPort,
      adminToken: token,
      adminOnDataPort: options.adminPort === undefined,
      tls,
    },
    {
      clock: systemClock,
      random,
      logger,
      balancer: balancerFactory(random),
    },
  );
  let fleet: Fleet | undefined;
  const orchestrator = new LocalOrchestrator(LOCAL_ORCHESTRATOR_DEFAULTS, {
    logger,
    now: () => systemClock.now(),
    waitIdle: (r) => fleet?.waitIdle(r) ?? Promise.resolve(),
  });
  fleet = new Fleet(
    file,
    {
      baseDir: dirname(path),
      activator: {
        ...FLEET_DEFAULTS.activator,
        maxQueue: options.activatorQueue,
        timeoutMs: options.activatorTimeoutMs,
      },
      switchTimeoutMs: FLEET_DEFAULTS.switchTimeoutMs,
      machine: { cores: availableParallelism(), memoryBytes: totalmem() },
    },
    {
      gateway,
      orchestrator,
      clock: systemClock,
      wallClock,
      logger,
      timers: realTimers,
      replicaCost: estimateReplicaCost,
    },
  );
  gateway.attachControl(fleet);
  const dashboard = dashboardFor(gateway, {
    adminToken: token,
    file: () => file,
    fleet,
    secure: options.adminPort === undefined && tls !== undefined,
    logger,
  });
  const admin =
    options.adminPort === undefined
      ? undefined
      : createServer((req, res) => void handleAdmin(req, res, gateway, token, logger, dashboard));
  if (!admin) gateway.attachUi(dashboard);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      // A second signal: no more waiting for anything.
      logger.warn('second signal: killing replicas without draining', { signal });
      orchestrator.kill();
      process.exit(1);
    }
    stopping = true;
    logger.info('draining', { signal, timeoutMs: options.drainTimeoutMs });
    // Every decision stops now: no tick, no scale from zero, no replica start or restart. Only
    // then do requests in flight finish and the replicas drain.
    fleet.stop();
    orchestrator.stopStarting();
    const deadline = setTimeout(() => {
      logger.error('drain timeout: killing the replicas left', { timeoutMs: options.drainTimeoutMs });
      orchestrator.kill();
      process.exit(1);
    }, options.drainTimeoutMs);
    deadline.unref();
    void (async () => {
      // The dashboard's streams never end by themselves: closed first, so draining does not wait on them.
      dashboard.close();
      // Requests in flight finish on their replicas first; only then do the replicas stop.
      await gateway.close();
      admin?.close();
      await orchestrator.close();
      await removeUpContext(process.pid).catch(() => undefined);
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () =>
    logger.warn('SIGHUP ignored: flotilla up does not reload its service file yet; restart it'),
  );

  const address = await gateway.listen();
  const adminAddress = admin ? await listenAdmin(admin, options.adminPort ?? 0, options.host) : undefined;
  fleet.start();
  dashboard.start();
  const url = `${scheme(tls)}://${options.host}:${address.port}`;
  const adminUrl = adminAddress ? `http://${options.host}:${adminAddress.port}` : url;
  const context = await writeUpContext({ url, adminUrl, token, pid: process.pid, file: path }).catch(
    (err: unknown) => logger.warn('cannot write the context file', { error: (err as Error).message }),
  );
  logger.info('listening', {
    http: url,
    grpc: gateway.grpcAddress ? `${options.host}:${gateway.grpcAddress.port}` : undefined,
    admin: adminUrl,
    dashboard: `${adminUrl}${DASHBOARD_PATH}`,
    config: path,
    services: file.services.map((s) => s.name).join(','),
  });
  process.stdout.write(
    upBanner(file, url, gateway.grpcAddress?.port, {
      ...(context ? { context } : {}),
      cli: cliCommand(),
      dashboardUrl: `${adminUrl}${DASHBOARD_PATH}`,
    }),
  );
}

/** The `flotilla up` command. */
export function upCommand(): Command {
  const command = new Command('up')
    .description(
      'Run a service file on this machine: the gateway, replicas as child processes, autoscaling to zero with an activator, canaries and rollouts.',
    )
    .argument('<file>', 'service file (flotilla services or an ElasticServing PaddleService)')
    .option('--port <port>', 'HTTP port of the gateway (0 picks a free port and logs it)', parsePort, 8080)
    .option(
      '--grpc-port <port>',
      'gRPC port of the gateway (KServe/Triton clients), proxied to the replicas (0 picks a free port; default: none)',
      parsePort,
    )
    .option(
      '--admin-port <port>',
      'serve the admin API (/_flotilla/…) and the dashboard (/_flotilla/ui) on their own port instead of the gateway port',
      parsePort,
    )
    .option('--host <address>', 'address to bind; stays on loopback unless told otherwise', '127.0.0.1')
    .addOption(
      new Option(
        '--admin-token <token>',
        'bearer token of the admin API (default: a random one, written to $FLOTILLA_HOME/up/NAME.json for flotilla status/scale/rollout)',
      ).env('FLOTILLA_ADMIN_TOKEN'),
    )
    .option(
      '--activator-queue <n>',
      'requests held per variant while it has no ready replica; more get 503 with Retry-After',
      parsePositiveInt,
      FLEET_DEFAULTS.activator.maxQueue,
    )
    .option(
      '--activator-timeout <ms>',
      'how long a held request waits for a replica before 503 with Retry-After',
      parsePositiveInt,
      FLEET_DEFAULTS.activator.timeoutMs,
    )
    .option(
      '--drain-timeout <ms>',
      'on SIGTERM/SIGINT, how long requests in flight and replicas may take to finish before every replica is killed (a second signal kills at once)',
      parsePositiveInt,
      UP_DEFAULTS.drainTimeoutMs,
    )
    .addOption(
      new Option('--log-level <level>', 'log verbosity')
        .choices(['debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    )
    .action(async (file: string, opts: Record<string, unknown>) => {
      await up({
        file,
        port: opts['port'] as number,
        ...(opts['grpcPort'] !== undefined ? { grpcPort: opts['grpcPort'] as number } : {}),
        ...(opts['adminPort'] !== undefined ? { adminPort: opts['adminPort'] as number } : {}),
        host: opts['host'] as string,
        ...(opts['adminToken'] ? { adminToken: opts['adminToken'] as string } : {}),
        activatorQueue: opts['activatorQueue'] as number,
        activatorTimeoutMs: opts['activatorTimeout'] as number,
        drainTimeoutMs: opts['drainTimeout'] as number,
        logLevel: opts['logLevel'] as LogLevel,
        tls: serverTlsFiles(opts),
      });
    });
  return addServerTlsFlags(command, "the gateway's HTTP and gRPC");
}
