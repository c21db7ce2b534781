import { RenderError } from './errors.js';
import { RENDER_DEFAULTS, type RenderOptions } from './options.js';
import type { PlanService, PlanVariant } from './plan.js';
import { modelServerPorts } from './ports.js';

/**
 * The container (and volumes) a variant's pods run, the same on every target: a `model:` variant is
 * `flotilla serve` in the Flotilla image on the model repository at /models, a `command:` variant is
 * its command run by a shell in the Flotilla image, a PaddleService container is its image as it is.
 */

/** What a target needs to know to build a variant's pod. */
export interface PodContext {
  readonly target: string;
  readonly file: string;
  readonly options: RenderOptions;
  /** Knative sets $PORT itself and refuses it in env; plain pods need it. */
  readonly setsPort: boolean;
  /** Knative names its one port `http1` (or `h2c`); plain pods name theirs. */
  readonly knative: boolean;
}

/** A container and the pod-level parts that go with it. */
export interface VariantPod {
  readonly container: Record<string, unknown>;
  readonly volumes: readonly unknown[];
  /** The port the pod answers HTTP on. */
  readonly httpPort: number;
  /** The gRPC port, for model servers. */
  readonly grpcPort?: number;
  /** The pod's Prometheus annotations (model servers export /metrics). */
  readonly annotations: Readonly<Record<string, string>>;
}

const MODELS_VOLUME = 'models';

/** The Flotilla image, or a RenderError naming the variant, the field and the target. */
function flotillaImage(v: PlanVariant, what: string, ctx: PodContext): string {
  if (ctx.options.image !== undefined) return ctx.options.image;
  throw new RenderError(
    `${ctx.file}: ${v.where}.${what}: --target ${ctx.target} runs ${what} variants in the Flotilla image: give --image IMAGE`,
  );
}

/** `--models name[:version]` for `flotilla serve`: the model, pinned when the variant pins it, and its parts. */
function modelList(v: PlanVariant): string {
  if (v.runs.kind !== 'model') return '';
  const main = v.runs.version !== undefined ? `${v.runs.name}:${v.runs.version}` : v.runs.name;
  return [main, ...v.runs.with].join(',');
}

function probeTiming(s: PlanService): Record<string, number> {
  const hc = s.healthCheck;
  if (!hc) return {};
  return {
    periodSeconds: Math.max(1, Math.ceil(hc.intervalMs / 1000)),
    timeoutSeconds: Math.max(1, Math.ceil(hc.timeoutMs / 1000)),
    successThreshold: hc.healthyThreshold,
    failureThreshold: hc.unhealthyThreshold,
  };
}

/**
 * The readiness probe: the service's health-check path over HTTP for Flotilla servers and
 * commands (what the gateway would check), a TCP connect for a PaddleService container (as
 * ElasticServing probes it: its image's health path is unknown). `healthCheck: false` leaves the
 * cluster's default (a TCP check on Knative, none on a Deployment).
 */
function readinessProbe(s: PlanService, v: PlanVariant, port: number, ctx: PodContext) {
  if (!s.healthCheck) return undefined;
  // Knative probes the one port itself; naming it is allowed but redundant.
  const portField = ctx.knative ? {} : { port };
  if (v.runs.kind === 'container') return { tcpSocket: { port }, ...probeTiming(s) };
  return { httpGet: { path: s.healthCheck.path, ...portField }, ...probeTiming(s) };
}

/** Resources as Kubernetes takes them: quantities are strings. */
function resources(v: PlanVariant): Record<string, unknown> | undefined {
  if (!v.resources) return undefined;
  const q = (r: Readonly<Record<string, string | number>> | undefined) =>
    r === undefined ? undefined : Object.fromEntries(Object.entries(r).map(([k, x]) => [k, String(x)]));
  return { requests: q(v.resources.requests), limits: q(v.resources.limits) };
}

/** The model repository: a read-only PVC at /models, or nothing (baked into the image). */
function modelRepository(v: PlanVariant, ctx: PodContext): { mounts: unknown[]; volumes: unknown[] } {
  const source = ctx.options.models;
  if (v.runs.kind !== 'model' || source.kind === 'image') return { mounts: [], volumes: [] };
  if (source.kind === 'uri') {
    throw new RenderError(
      `--models uri:${source.uri}: --target ${ctx.target} has no storage initializer (KServe's): use --models pvc:CLAIM or bake the models into the image (--models image)`,
    );
  }
  return {
    mounts: [{ name: MODELS_VOLUME, mountPath: RENDER_DEFAULTS.modelRepositoryPath, readOnly: true }],
    volumes: [{ name: MODELS_VOLUME, persistentVolumeClaim: { claimName: source.claim, readOnly: true } }],
  };
}

/** The container of a variant and what goes with it. Throws RenderError for what cannot run. */
export function variantPod(s: PlanService, v: PlanVariant, ctx: PodContext): VariantPod {
  const d = RENDER_DEFAULTS;
  const runs = v.runs;
  if (runs.kind === 'endpoints') {
    throw new RenderError(`${ctx.file}: ${v.where}.endpoints: static endpoints have no pods to render`);
  }
  const name =
    s.runtimeVersion && /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s.runtimeVersion)
      ? s.runtimeVersion
      : 'server';
  const repo = modelRepository(v, ctx);
  const extraMounts = s.volumeMounts ?? [];
  const mounts = [...repo.mounts, ...extraMounts];
  const httpPort = runs.kind === 'container' ? (runs.port ?? d.httpPort) : d.httpPort;
  // A model server's ports come from modelServerPorts (one port on Knative: gRPC and REST on h2c).
  const server = runs.kind === 'model' ? modelServerPorts(ctx.knative) : undefined;
  const ports =
    server?.ports ??
    (ctx.knative
      ? [{ containerPort: httpPort, name: 'http1' }]
      : [{ containerPort: httpPort, name: 'http', protocol: 'TCP' }]);
  const env: unknown[] = [];
  if (runs.kind === 'command' && ctx.setsPort) env.push({ name: 'PORT', value: String(httpPort) });
  if (runs.kind === 'container' && runs.env) env.push(...runs.env);
  if (runs.kind === 'container' && runs.storageUri !== undefined) {
    throw new RenderError(
      `${ctx.file}: ${v.where}.storageUri: --target ${ctx.target} has no storage initializer (KServe's): mount the model with spec.volumes/volumeMounts or bake it into the image`,
    );
  }
  const readiness = readinessProbe(s, v, httpPort, ctx);
  const liveness =
    runs.kind === 'model'
      ? {
          httpGet: { path: '/v2/health/live', ...(ctx.knative ? {} : { port: httpPort }) },
          periodSeconds: 10,
        }
      : undefined;
  let image: string;
  let command: string[] | undefined;
  let args: string[] | undefined;
  if (runs.kind === 'model') {
    image = flotillaImage(v, 'model', ctx);
    args = [
      'serve',
      '--model-repository',
      d.modelRepositoryPath,
      '--models',
      modelList(v),
      ...(server?.args ?? []),
    ];
  } else if (runs.kind === 'command') {
    image = flotillaImage(v, 'command', ctx);
    command = ['/bin/sh', '-c'];
    args = [runs.command];
  } else {
    image = runs.image;
    // ElasticServing's `arg` is a shell line (`cd … && python3 …`): a shell runs it.
    if (runs.arg !== undefined) {
      command = ['/bin/bash', '-c'];
      args = [runs.arg];
    }
  }
  const container: Record<string, unknown> = {
    name,
    image,
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    ...(runs.kind === 'container' && runs.workingDir !== undefined ? { workingDir: runs.workingDir } : {}),
    ports,
    ...(env.length > 0 ? { env } : {}),
    ...(readiness ? { readinessProbe: readiness } : {}),
    ...(liveness ? { livenessProbe: liveness } : {}),
    ...(resources(v) ? { resources: resources(v) } : {}),
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
  };
  const annotations: Record<string, string> =
    runs.kind === 'model'
      ? {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(httpPort),
          'prometheus.io/path': '/metrics',
        }
      : {};
  return {
    container,
    volumes: [...repo.volumes, ...(s.volumes ?? [])],
    httpPort,
    ...(server ? { grpcPort: server.grpcPort } : {}),
    annotations,
  };
}

/** Whole seconds of the longest request (timeouts.total), rounded up. */
export const requestTimeoutS = (s: PlanService): number => Math.max(1, Math.ceil(s.timeouts.totalMs / 1000));
