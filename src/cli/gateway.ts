import { Resolver } from 'node:dns/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger, type LogLevel, systemClock, systemRandom } from '../core/index.js';
import { checkStaticOnly, createDnsResolver, Gateway } from '../gateway/index.js';
import type { ServiceFile } from '../spec/index.js';
import { type ServerTlsFiles, scheme } from '../tls/index.js';
import { addConnectionFlags, type ConnectionFlags, connectionFlags } from './connection-flags.js';
import { DASHBOARD_PATH, dashboardFor } from './dashboard.js';
import { parseBytes, parsePort } from './parse-options.js';
import { checkPorts } from './ports.js';
import { balancerFactory, readServiceFile } from './service-file.js';
import { addServerTlsFlags, serverTlsFiles, watchCertificates } from './tls-flags.js';

/** Flags of `flotilla gateway`, parsed. */
export interface GatewayCliOptions extends ConnectionFlags {
  readonly config: string;
  readonly port: number;
  readonly grpcPort?: number;
  readonly host: string;
  readonly adminToken?: string;
  readonly maxBuffer: number;
  readonly logLevel: LogLevel;
  /** Serve HTTPS and gRPC over TLS with these files. */
  readonly tls?: ServerTlsFiles | undefined;
  /** The DNS server `dns://` endpoints are resolved at (`IP` or `IP:port`); default: the system's. */
  readonly dnsServer?: string | undefined;
}

/** `--dns-server`: an IP address with an optional port (`127.0.0.1:5353`, `[::1]:53`); Node's own check. */
export function parseDnsServer(text: string): string {
  try {
    new Resolver().setServers([text]);
  } catch {
    throw new InvalidArgumentError(`expected IP or IP:port of a DNS server, got "${text}"`);
  }
  return text;
}

async function loadServiceFile(path: string): Promise<ServiceFile> {
  const file = await readServiceFile(path);
  checkStaticOnly(file);
  return file;
}

/** Wires the gateway's parts, starts it, reloads on SIGHUP and drains on SIGTERM/SIGINT. */
export async function gateway(options: GatewayCliOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  await checkPorts(options.host, [
    { port: options.port, flag: '--port' },
    { port: options.grpcPort, flag: '--grpc-port' },
  ]);
  const path = resolve(options.config);
  const random = systemRandom;
  const tls = watchCertificates(options.tls, logger);
  // The latest file read (admin reload, SIGHUP), for the dashboard's SLO lines.
  let file = await loadServiceFile(path);
  const gw = new Gateway(
    file,
    {
      host: options.host,
      port: options.port,
      grpcPort: options.grpcPort,
      adminToken: options.adminToken,
      maxBufferBytes: options.maxBuffer,
      headerTimeoutMs: options.headerTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
      bodyMinRate: options.bodyMinRate,
      requestMemoryBytes: options.requestMemoryBytes,
      staticOnly: true,
      tls,
    },
    {
      clock: systemClock,
      random,
      logger,
      balancer: balancerFactory(random),
      load: async () => {
        file = await loadServiceFile(path);
        return file;
      },
      dnsResolver: () => createDnsResolver({ server: options.dnsServer }),
    },
  );
  const dashboard = dashboardFor(gw, {
    adminToken: options.adminToken,
    file: () => file,
    secure: tls !== undefined,
    logger,
  });
  gw.attachUi(dashboard);
  // Signal handlers go in before `listening` is announced: a signal sent right after it must not be lost.
  process.on('SIGHUP', () => {
    gw.reload().catch((err: unknown) => logger.error('reload failed', { error: (err as Error).message }));
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn('second signal: exiting without draining', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('draining', { signal });
    dashboard.close();
    void gw.close().then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const address = await gw.listen();
  dashboard.start();
  logger.info('listening', {
    http: `${scheme(tls)}://${options.host}:${address.port}`,
    dashboard: `${scheme(tls)}://${options.host}:${address.port}${DASHBOARD_PATH}`,
    grpc: gw.grpcAddress ? `${options.host}:${gw.grpcAddress.port}` : undefined,
    config: path,
    services: gw
      .state()
      .services.map((s) => s.name)
      .join(','),
  });
}

/** The `flotilla gateway` command. */
export function gatewayCommand(): Command {
  const command = new Command('gateway')
    .description(
      'Route HTTP traffic to services by Host, path and model name; split it over weighted variants and balance it over replicas.',
    )
    .requiredOption('--config <file>', 'service file (services.yaml): services, variants, endpoints')
    .option('--port <port>', 'HTTP port (0 picks a free port and logs it)', parsePort, 8080)
    .option(
      '--grpc-port <port>',
      'gRPC port (HTTP/2; TLS with --tls-cert) for KServe/Triton and TF Serving clients, proxied to the replicas in grpcEndpoints (0 picks a free port; default: no gRPC)',
      parsePort,
    )
    .option(
      '--host <address>',
      'address to bind; the data plane stays on loopback unless told otherwise',
      '127.0.0.1',
    )
    .addOption(
      new Option(
        '--admin-token <token>',
        'bearer token for the admin API (/_flotilla/…); without one it answers 403',
      ).env('FLOTILLA_ADMIN_TOKEN'),
    )
    .option(
      '--max-buffer <bytes>',
      'request bodies up to this size are buffered so they can be retried or mirrored; larger ones stream through',
      parseBytes,
      4 * 1024 ** 2,
    );
  addConnectionFlags(addServerTlsFlags(command, 'HTTP and gRPC'))
    .addOption(
      new Option(
        '--dns-server <ip[:port]>',
        "DNS server (UDP) that resolves dns://NAME:PORT endpoints; default: the system's (/etc/resolv.conf)",
      )
        .env('FLOTILLA_DNS_SERVER')
        .argParser(parseDnsServer),
    )
    .addOption(
      new Option('--log-level <level>', 'log verbosity')
        .choices(['debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    )
    .action(async (opts: Record<string, unknown>) => {
      await gateway({
        config: opts['config'] as string,
        port: opts['port'] as number,
        ...(opts['grpcPort'] !== undefined ? { grpcPort: opts['grpcPort'] as number } : {}),
        host: opts['host'] as string,
        ...(opts['adminToken'] ? { adminToken: opts['adminToken'] as string } : {}),
        maxBuffer: opts['maxBuffer'] as number,
        ...connectionFlags(opts),
        logLevel: opts['logLevel'] as LogLevel,
        tls: serverTlsFiles(opts),
        dnsServer: opts['dnsServer'] as string | undefined,
      });
    });
  return command;
}
