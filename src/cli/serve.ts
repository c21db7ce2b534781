import cluster from 'node:cluster';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ConfigError,
  createLogger,
  InternalError,
  type Logger,
  type LogLevel,
  systemClock,
  UsageError,
} from '../core/index.js';
import { VERSION } from '../core/version.js';
import {
  addOipRoutes,
  addPaddleRoutes,
  addTfServingRoutes,
  DRAIN_LIMIT_S,
  GroupMember,
  grpcAddress,
  type Handler,
  HttpServer,
  InferenceService,
  JsBackend,
  loadGrpcServer,
  ModelManager,
  ModelMetrics,
  modelBodyLimit,
  OnnxBackend,
  oipBodyAlignment,
  ProcessGroup,
  type RepositoryControl,
  type RepositoryOp,
  RepositoryPoller,
  Router,
  SinglePortListener,
  tellParent,
  tuneHeapForServing,
} from '../server/index.js';
import { type ServerTlsFiles, scheme } from '../tls/index.js';
import type { ConnectionFlags } from './connection-flags.js';
import { asPortError, checkPorts, type PortFlag } from './ports.js';
import { checkServeRequest } from './serve-request.js';
import type { ModelSource } from './serve-source.js';
import { watchCertificates } from './tls-flags.js';

/** Flags of `flotilla serve`, parsed. */
export interface ServeOptions extends ConnectionFlags {
  /** A repository (`--model-repository`), or one model's folder (`--model-dir`, `--model-name`). */
  readonly source: ModelSource;
  readonly httpPort: number;
  /**
   * `--port`: one port for REST over HTTP/1.1 and everything over HTTP/2 (gRPC, and REST over
   * h2c), told apart by the connection preface, instead of `httpPort` and `grpcPort`.
   */
  readonly port?: number | undefined;
  /** gRPC port (OIP v2 `inference.GRPCInferenceService`); 0 picks a free one. */
  readonly grpcPort: number;
  /** Largest gRPC request message received, in bytes (answers are not limited). */
  readonly grpcMaxMessage: number;
  readonly host: string;
  readonly models?: readonly string[];
  /** `model=file` pairs: read that config instead of `<model>/config.yaml`. */
  readonly modelConfigs?: readonly string[];
  readonly pollInterval: number;
  readonly adminToken?: string;
  readonly maxBody: number;
  readonly logLevel: LogLevel;
  /** Drain and exit when stdin closes: a parent that dies (even by SIGKILL) leaves no orphan. */
  readonly exitWithParent?: boolean;
  /** Server processes sharing the ports (1: this process serves). */
  readonly processes?: number;
  /** Serve HTTPS and gRPC over TLS with these files (`--tls-cert`, `--tls-key`, `--tls-client-ca`). */
  readonly tls?: ServerTlsFiles | undefined;
}

/**
 * The folder models are read from, checked before anything loads: a repository as
 * checkServeRequest checks it (the models asked for exist), a single model's folder by existing.
 * What is wrong is one line naming the flag (UsageError: exit 2).
 */
async function checkSource(
  source: ModelSource,
  models: readonly string[] | undefined,
  overrides: ReadonlyMap<string, string>,
): Promise<string> {
  if (source.kind === 'repository') return checkServeRequest(source.dir, models, overrides);
  const root = resolve(source.dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(
      '--model-dir',
      `--model-dir ${root} ${existsSync(root) ? 'is not a directory' : 'does not exist'}`,
    );
  }
  return root;
}

/** `--exit-with-parent`: standard input closes when the parent goes, even killed with SIGKILL. */
function whenParentExits(then: () => void): void {
  process.stdin.on('close', then);
  process.stdin.resume();
}

/** `--processes N`: this process only starts, restarts and drains the N server processes. */
async function servePrimary(options: ServeOptions, logger: Logger): Promise<void> {
  await checkSource(options.source, options.models, parseConfigOverrides(options.modelConfigs ?? []));
  await checkPorts(options.host, servePorts(options));
  const group = new ProcessGroup(options.processes!, logger);
  let stopping = false;
  const stop = (signal: string, code = 0): void => {
    if (stopping) {
      logger.warn('second signal: exiting without draining', { signal });
      group.kill();
      process.exit(1);
    }
    stopping = true;
    logger.info('draining server processes', { signal });
    void group.stop('SIGTERM').then(() => {
      logger.info('stopped');
      process.exit(code);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (options.exitWithParent)
    whenParentExits(() => {
      if (!stopping) stop('parent exited');
    });
  logger.info('starting server processes', { processes: options.processes });
  group.start(
    (reason) => {
      logger.error('could not start', { reason });
      stop('start failed', 1);
    },
    // The server's own `ready` line, as one process logs it: every process has loaded its models.
    (models) => logger.info('ready', { models, processes: options.processes }),
  );
}

/** Repository changes applied here, then by every other process of the group. */
function groupRepository(manager: ModelManager, member: GroupMember): RepositoryControl {
  const everywhere = async (op: RepositoryOp, model: string): Promise<void> => {
    const errors = await member.applyEverywhere(op, model);
    if (errors.length > 0) {
      throw new InternalError(
        op === 'load' ? 'FLT_MODEL_LOAD_FAILED' : 'FLT_INTERNAL',
        `${model}: ${op}ed by this server process, but ${errors.length} other process(es) failed: ${errors.join('; ')}`,
      );
    }
  };
  return {
    async loadModel(model) {
      await manager.loadModel(model);
      await everywhere('load', model);
    },
    async unloadModel(model) {
      await manager.unloadModel(model);
      await everywhere('unload', model);
    },
  };
}

/** Wires the model server's parts, starts it, and drains it on SIGTERM/SIGINT. */
export async function serve(options: ServeOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  if ((options.processes ?? 1) > 1 && cluster.isPrimary) {
    await servePrimary(options, logger);
    return;
  }
  const configOverrides = parseConfigOverrides(options.modelConfigs ?? []);
  const root = await checkSource(options.source, options.models, configOverrides);
  // Before any model loads: a busy port must stop the server while nothing needs undoing.
  if (!cluster.isWorker) await checkPorts(options.host, servePorts(options));
  tuneHeapForServing();
  const inGroup = cluster.isWorker;
  // gRPC keeps message limits in a signed 32-bit integer.
  if (options.grpcMaxMessage < 1 || options.grpcMaxMessage > 2 ** 31 - 1) {
    throw new ConfigError(
      '--grpc-max-message',
      `${options.grpcMaxMessage} bytes is not within 1 and 2147483647`,
    );
  }
  const clock = systemClock;
  const metrics = new ModelMetrics();
  let service: InferenceService | undefined;
  const manager = new ModelManager(
    {
      root,
      ...(options.source.kind === 'model' ? { singleModel: options.source.name } : {}),
      ...(options.models ? { models: options.models } : {}),
      configOverrides,
    },
    {
      backends: { onnx: new OnnxBackend(clock), js: new JsBackend(clock) },
      logger,
      clock,
      metrics,
      infer: (model, version, inputs, outputs) => service!.call(model, version, inputs, outputs),
    },
  );
  service = new InferenceService(manager, clock);
  const member = inGroup
    ? new GroupMember(metrics.registry, (op, model) =>
        op === 'load' ? manager.loadModel(model) : manager.unloadModel(model),
      )
    : undefined;
  const repository = member ? groupRepository(manager, member) : undefined;
  let accepting = true;
  const tls = watchCertificates(options.tls, logger);
  const router = new Router<Handler>();
  addOipRoutes(router, {
    manager,
    service,
    metrics,
    adminToken: options.adminToken,
    serverVersion: VERSION,
    accepting: () => accepting,
    ...(repository ? { repository } : {}),
    ...(member ? { metricsText: () => member.metricsText() } : {}),
  });
  addTfServingRoutes(router, { manager, service, accepting: () => accepting });
  addPaddleRoutes(router, { manager, service, accepting: () => accepting });
  const http = new HttpServer(
    {
      host: options.host,
      port: options.httpPort,
      maxBodyBytes: options.maxBody,
      bodyAlignment: oipBodyAlignment,
      // An inference request may send what its model's inputs can need at their largest shapes
      // (decided at load), not --max-body: see docs/protocols.md.
      bodyLimit: modelBodyLimit((model, version) => manager.bodyBounds(model, version), options.maxBody),
      tls,
      headerTimeoutMs: options.headerTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
      bodyMinRate: options.bodyMinRate,
      requestMemoryBytes: options.requestMemoryBytes,
    },
    router,
    logger,
  );
  // Signal handlers go in before `listening` is announced: an orchestrator may stop a replica
  // right after it, and that SIGTERM must drain, not kill.
  const poller = new RepositoryPoller(options.pollInterval * 1000, () => manager.reconcile());

  let grpc: InstanceType<Awaited<ReturnType<typeof loadGrpcServer>>> | undefined;
  let shared: SinglePortListener | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn('second signal: exiting without draining', { signal });
      process.exit(1);
    }
    stopping = true;
    accepting = false;
    logger.info('draining', { signal });
    // A request that never ends must not hold the pod past its grace period: the kubelet's
    // SIGKILL would come without a word. Exit with a line instead (DRAIN_LIMIT_S < the grace).
    setTimeout(() => {
      logger.error('drain took longer than its limit: exiting', { limitS: DRAIN_LIMIT_S });
      process.exit(1);
    }, DRAIN_LIMIT_S * 1000).unref();
    poller.close();
    void (async () => {
      // Both front ends finish their calls in flight before the models unload under them.
      await Promise.all([shared?.close(), http.close(), grpc?.close()]);
      await manager.close();
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (inGroup) {
    // The primary drains the group: Ctrl-C reaches every process, and it sends SIGTERM itself.
    process.on('SIGINT', () => undefined);
    process.on('disconnect', () => {
      if (!stopping) stop('primary exited');
    });
  } else {
    if (options.exitWithParent)
      whenParentExits(() => {
        if (!stopping) stop('parent exited');
      });
    process.on('SIGINT', () => stop('SIGINT'));
  }

  // Listen first so liveness answers while models load; readiness waits for them. Models start
  // loading (in worker threads) before the gRPC front end is imported: a cold start overlaps both.
  // In a group, a process listens once its models are loaded: the primary hands connections to
  // every listening process alike, so one still loading would fail its share of the requests.
  const loaded = manager.start();
  loaded.catch(() => undefined);
  if (inGroup) await loaded.catch(() => undefined);
  const grpcDeps = {
    manager,
    service,
    metrics,
    adminToken: options.adminToken,
    serverVersion: VERSION,
    accepting: () => accepting,
    logger,
    ...(repository ? { repository } : {}),
  };
  const grpcOptions = { host: options.host, maxMessageBytes: options.grpcMaxMessage, tls };
  let httpPort: number;
  let grpcPort: number;
  try {
    if (options.port !== undefined) {
      // One port: gRPC must be there before the first HTTP/2 connection is handed to it.
      const GrpcServer = await loadGrpcServer();
      const h2 = new GrpcServer(
        {
          ...grpcOptions,
          port: 0,
          otherStreams: (stream, headers) => http.serveHttp2Stream(stream, headers),
        },
        grpcDeps,
      );
      grpc = h2;
      shared = new SinglePortListener(
        { host: options.host, port: options.port, sniffTimeoutMs: options.headerTimeoutMs },
        { http1: (socket) => http.accept(socket), http2: h2.injector() },
      );
      const port = options.port;
      grpcPort = await shared.listen().catch((err: unknown) => {
        throw asPortError(err, options.host, port, '--port');
      });
      httpPort = grpcPort;
    } else {
      const address = await http.listen().catch((err: unknown) => {
        throw asPortError(err, options.host, options.httpPort, '--http-port');
      });
      httpPort = address.port;
      const GrpcServer = await loadGrpcServer();
      grpc = new GrpcServer({ ...grpcOptions, port: options.grpcPort }, grpcDeps);
      grpcPort = (
        await grpc.start().catch((err: unknown) => {
          throw asPortError(err, options.host, options.grpcPort, '--grpc-port');
        })
      ).port;
    }
  } catch (err) {
    // A port lost after the check: the model loads under way finish and unload before the
    // process exits (onnxruntime aborts the process when it exits mid-load).
    stopping = true;
    poller.close();
    await shared?.close().catch(() => undefined);
    await http.close().catch(() => undefined);
    await manager.close().catch(() => undefined);
    throw err;
  }
  logger.info('listening', {
    http: `${scheme(tls)}://${options.host}:${httpPort}`,
    grpc: grpcAddress(options.host, grpcPort),
    [options.source.kind === 'repository' ? 'repository' : 'model']:
      options.source.kind === 'repository' ? root : `${options.source.name}=${root}`,
    ...(inGroup ? { pid: process.pid } : {}),
  });
  member?.listening();
  // A replica of `flotilla up` tells its parent where it listens over IPC (typed, not a log line).
  tellParent({
    type: 'replica:listening',
    http: grpcAddress(options.host, httpPort),
    grpc: grpcAddress(options.host, grpcPort),
  });

  await loaded;
  poller.start();
  const held = await manager.index(false);
  // The parent (flotilla up) judges the replica by the models it holds, ready or not.
  tellParent({ type: 'replica:ready', models: held, uptimeMs: Math.round(process.uptime() * 1000) });
  const why = manager.notReadyReason();
  if (why !== undefined) {
    logger.error('not ready', { reason: why, ...(inGroup ? { pid: process.pid } : {}) });
    return;
  }
  const models = held
    .filter((e) => e.state === 'READY')
    .map((e) => `${e.name}:${e.version}`)
    .join(',');
  // In a group each process says so with its pid, and the primary logs the group's `ready` line.
  if (member) {
    logger.info('process ready', { models, pid: process.pid });
    member.ready(models);
  } else logger.info('ready', { models });
}

/** The fixed ports `serve` will listen on, with their flags. */
function servePorts(options: ServeOptions): PortFlag[] {
  if (options.port !== undefined) return [{ port: options.port, flag: '--port' }];
  return [
    { port: options.httpPort, flag: '--http-port' },
    { port: options.grpcPort, flag: '--grpc-port' },
  ];
}

/** `--model-config name=file` pairs as a map of absolute paths. */
function parseConfigOverrides(pairs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError('--model-config', `${JSON.stringify(pair)}: expected model=file`);
    const file = resolve(pair.slice(eq + 1));
    if (!existsSync(file)) throw new ConfigError('--model-config', `${file} does not exist`);
    out.set(pair.slice(0, eq), file);
  }
  return out;
}
