import { ConfigError } from '../core/index.js';
import {
  type Address,
  type HealthCheckSpec,
  PADDLE_SERVICE_DEFAULTS,
  type PaddleEndpoint,
  type PaddleService,
  paddleServiceScale,
  parseDuration,
  parseServiceFileYaml,
  readPaddleServices,
  readYamlDocuments,
  SERVICE_FILE_DEFAULTS,
  type ServiceSpec,
  type UpstreamTlsSpec,
  type VariantSpec,
} from '../spec/index.js';

/**
 * The render plan: a Flotilla service file or ElasticServing PaddleServices, read into one model
 * every target renders from. It keeps what a cluster needs that `flotilla up` does not (a
 * PaddleService's container image, port, arg, resources, env) and says where each part came from,
 * so that errors name the field the user wrote.
 */

/** What runs a variant's pods. */
export type PlanRuns =
  | {
      /** `flotilla serve` in the Flotilla image, loading `name` (pinned to `version`) and `with`. */
      readonly kind: 'model';
      readonly name: string;
      readonly version?: number;
      readonly with: readonly string[];
    }
  /** A shell command in the Flotilla image, listening on $PORT. */
  | { readonly kind: 'command'; readonly command: string }
  /** A PaddleService's own container: `image:tag`, its port, `arg` run by a shell. */
  | {
      readonly kind: 'container';
      readonly image: string;
      readonly port?: number;
      readonly arg?: string;
      readonly workingDir?: string;
      readonly env?: readonly unknown[];
      readonly storageUri?: string;
    }
  /** Static replicas outside the cluster's control. */
  | {
      readonly kind: 'endpoints';
      readonly endpoints: readonly Address[];
      readonly grpcEndpoints?: readonly Address[];
      readonly tls?: UpstreamTlsSpec;
    };

/** Autoscaling of a variant, Knative's KPA terms; durations in milliseconds. */
export interface PlanScale {
  readonly min: number;
  readonly max: number;
  readonly initial?: number;
  /** Knative's autoscaler class: `kpa` (concurrency/rps) or `hpa` (cpu). */
  readonly autoscalerClass: 'kpa' | 'hpa';
  readonly metric: 'concurrency' | 'rps' | 'cpu';
  /** Target per replica of `metric` (in-flight requests for concurrency). */
  readonly target: number;
  /** Fraction of `target` the autoscaler aims at, (0, 1]. */
  readonly targetUtilization: number;
  readonly stableWindowMs: number;
  readonly panicWindowPercent: number;
  readonly panicThresholdPercent: number;
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
  /** How long an idle variant keeps its last replica; undefined: the cluster's default. */
  readonly scaleToZeroAfterMs?: number;
  /** Hard limit of requests a replica takes at once (0: none), Knative's containerConcurrency. */
  readonly containerConcurrency: number;
}

/** Kubernetes resource requests and limits, as written. */
export interface PlanResources {
  readonly requests?: Readonly<Record<string, string | number>>;
  readonly limits?: Readonly<Record<string, string | number>>;
}

/** One variant to render. */
export interface PlanVariant {
  readonly tag: string;
  /** Relative traffic weight, as written (or resolved from Paddle's `weights`). */
  readonly weight: number;
  /** The weight as a whole percentage; the service's variants add up to 100. */
  readonly percent: number;
  readonly modelName: string;
  readonly modelVersion?: string;
  readonly runs: PlanRuns;
  readonly scale?: PlanScale;
  readonly resources?: PlanResources;
  /** Where the variant is in the input: `services.mnist.variants[0]` or `spec.default`. */
  readonly where: string;
}

/** One service to render: the service file's fields, its variants, and where it came from. */
export interface PlanService extends Omit<ServiceSpec, 'variants'> {
  readonly variants: readonly PlanVariant[];
  /** Where the service is in the input: `services.mnist` or `document 2 (PaddleService x)`. */
  readonly where: string;
  /** A PaddleService's own namespace (`--namespace` wins over it). */
  readonly namespace?: string;
  /** A PaddleService's `runtimeVersion` (ElasticServing names the container after it). */
  readonly runtimeVersion?: string;
  /** A PaddleService's `spec.volumes`/`spec.volumeMounts`, passed through to its pods. */
  readonly volumes?: readonly unknown[];
  readonly volumeMounts?: readonly unknown[];
  /**
   * Route by Knative's default host `<name>.<namespace>.example.com` (a PaddleService: the host
   * ElasticServing users send), wherever a target routes by host itself.
   */
  readonly knativeHost?: boolean;
  /** A PaddleService's metadata.labels, carried over to its objects. */
  readonly sourceLabels?: Readonly<Record<string, string>>;
}

/** The whole input. */
export interface RenderPlan {
  /** The file read (named in errors). */
  readonly file: string;
  readonly source: 'service-file' | 'paddle-service';
  readonly services: readonly PlanService[];
}

/**
 * Whole percentages from relative weights by the largest remainder: they add up to exactly 100
 * (a Knative Route refuses anything else) and ties go to the earlier variant, so the result is
 * the same every time.
 */
export function toPercents(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return weights.map((_, i) => (i === 0 ? 100 : 0));
  const exact = weights.map((w) => (w * 100) / total);
  const out = exact.map(Math.floor);
  let left = 100 - out.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, frac: x - Math.floor(x) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i]! += 1;
    left -= 1;
  }
  return out;
}

function fromVariant(v: VariantSpec, percent: number, where: string): PlanVariant {
  const runs: PlanRuns =
    v.runs.kind === 'model'
      ? {
          kind: 'model',
          name: v.runs.name,
          ...(v.runs.version !== undefined ? { version: v.runs.version } : {}),
          with: v.runs.with ?? [],
        }
      : v.runs;
  const s = v.scale;
  return {
    tag: v.tag,
    weight: v.weight,
    percent,
    modelName: v.modelName,
    ...(v.modelVersion !== undefined ? { modelVersion: v.modelVersion } : {}),
    runs,
    ...(s
      ? {
          scale: {
            min: s.min,
            max: s.max,
            ...(s.initial !== undefined ? { initial: s.initial } : {}),
            autoscalerClass: 'kpa',
            metric: 'concurrency',
            target: s.targetConcurrency,
            targetUtilization: s.targetUtilization,
            stableWindowMs: s.stableWindowMs,
            panicWindowPercent: s.panicWindowPercent,
            panicThresholdPercent: s.panicThresholdPercent,
            maxScaleUpRate: s.maxScaleUpRate,
            maxScaleDownRate: s.maxScaleDownRate,
            scaleToZeroAfterMs: s.scaleToZeroAfterMs,
            // targetConcurrency is a target the autoscaler aims at, not a limit: no hard cap.
            containerConcurrency: 0,
          },
        }
      : {}),
    where,
  };
}

/** The plan of a Flotilla service file (already validated). */
export function planFromServiceSpecs(file: string, services: readonly ServiceSpec[]): RenderPlan {
  return {
    file,
    source: 'service-file',
    services: services.map((s) => {
      const { variants, ...rest } = s;
      const percents = toPercents(variants.map((v) => v.weight));
      return {
        ...rest,
        where: `services.${s.name}`,
        variants: variants.map((v, i) => fromVariant(v, percents[i]!, `services.${s.name}.variants[${i}]`)),
      };
    }),
  };
}

/**
 * ElasticServing's resource defaults (its pkg/constants): a container without requests or limits
 * for cpu or memory gets these, as the ElasticServing controller gives it.
 */
export const PADDLE_RESOURCE_DEFAULTS = Object.freeze({ cpu: '0.1', memory: '128Mi' });

function paddleResources(ps: PaddleService, e: PaddleEndpoint): PlanResources {
  const given = e.resources ?? ps.spec.resources ?? {};
  const fill = (r: Readonly<Record<string, string | number>> | undefined) => ({
    ...PADDLE_RESOURCE_DEFAULTS,
    ...(r ?? {}),
  });
  return { requests: fill(given.requests), limits: fill(given.limits) };
}

/**
 * A PaddleService's container image wins over Flotilla's `command:` or `model:` stand-in: the
 * stand-in is what runs on one machine, the image what ElasticServing runs on the cluster.
 */
function paddleRuns(e: PaddleEndpoint, file: string, where: string): PlanRuns {
  if (e.containerImage !== undefined) {
    return {
      kind: 'container',
      image: e.tag ? `${e.containerImage}:${e.tag}` : e.containerImage,
      ...(e.port !== undefined ? { port: e.port } : {}),
      ...(e.arg !== undefined ? { arg: e.arg } : {}),
      ...(e.workingDir !== undefined ? { workingDir: e.workingDir } : {}),
      ...(e.env !== undefined ? { env: e.env } : {}),
      ...(e.storageUri !== undefined ? { storageUri: e.storageUri } : {}),
    };
  }
  // Flotilla's stand-ins without a container image run in the Flotilla image.
  if (e.model) {
    return {
      kind: 'model',
      name: e.model.name,
      ...(e.model.version !== undefined ? { version: e.model.version } : {}),
      with: [],
    };
  }
  if (e.command !== undefined) return { kind: 'command', command: e.command };
  throw new ConfigError(
    file,
    `${where}: nothing to run: give containerImage (or Flotilla's model: or command:)`,
  );
}

function paddleScale(ps: PaddleService): PlanScale {
  const s = paddleServiceScale(ps);
  const d = SERVICE_FILE_DEFAULTS.scale;
  const service = ps.spec.service ?? {};
  return {
    min: s.min,
    max: s.max,
    autoscalerClass: service.autoscaler === 'hpa.autoscaling.knative.dev' ? 'hpa' : 'kpa',
    metric: service.metric ?? 'concurrency',
    target: s.targetConcurrency,
    targetUtilization: s.targetUtilization,
    stableWindowMs: parseDuration(s.stableWindow) ?? d.stableWindowMs,
    panicWindowPercent: s.panicWindowPercent,
    panicThresholdPercent: s.panicThresholdPercent,
    maxScaleUpRate: d.maxScaleUpRate,
    maxScaleDownRate: d.maxScaleDownRate,
    // ElasticServing sets containerConcurrency to the target as written (0, unset: no limit).
    containerConcurrency: service.target ?? 0,
  };
}

/** The plan of checked PaddleServices. */
export function planFromPaddleServices(
  file: string,
  services: readonly { readonly service: PaddleService; readonly where: string }[],
): RenderPlan {
  return {
    file,
    source: 'paddle-service',
    services: services.map(({ service: ps, where }) => {
      const { spec } = ps;
      const canaryPercent = spec.canary
        ? (spec.canaryTrafficPercent ?? PADDLE_SERVICE_DEFAULTS.canaryTrafficPercent)
        : 0;
      const scale = paddleScale(ps);
      const variant = (tag: 'default' | 'canary', e: PaddleEndpoint, percent: number): PlanVariant => ({
        tag,
        weight: percent,
        percent,
        modelName: e.model?.name ?? ps.metadata.name,
        ...(e.model?.version !== undefined ? { modelVersion: String(e.model.version) } : {}),
        runs: paddleRuns(e, file, `${where}: spec.${tag}`),
        scale,
        resources: paddleResources(ps, e),
        where: `${where}: spec.${tag}`,
      });
      const variants = [variant('default', spec.default, 100 - canaryPercent)];
      if (spec.canary) variants.push(variant('canary', spec.canary, canaryPercent));
      const healthCheck: HealthCheckSpec = { ...SERVICE_FILE_DEFAULTS.healthCheck };
      return {
        name: ps.metadata.name,
        hosts: [],
        variants,
        balancer: SERVICE_FILE_DEFAULTS.balancer,
        healthCheck,
        outlierDetection: { ...SERVICE_FILE_DEFAULTS.outlierDetection },
        retry: { ...SERVICE_FILE_DEFAULTS.retry },
        timeouts: { ...SERVICE_FILE_DEFAULTS.timeouts },
        where,
        knativeHost: true,
        ...(ps.metadata.namespace !== undefined ? { namespace: ps.metadata.namespace } : {}),
        ...(spec.runtimeVersion !== undefined ? { runtimeVersion: spec.runtimeVersion } : {}),
        ...(spec.volumes !== undefined ? { volumes: spec.volumes } : {}),
        ...(spec.volumeMounts !== undefined ? { volumeMounts: spec.volumeMounts } : {}),
        ...(ps.metadata.labels !== undefined ? { sourceLabels: ps.metadata.labels } : {}),
      };
    }),
  };
}

/**
 * Reads the text of a Flotilla service file or of Kubernetes manifests holding PaddleServices into
 * a render plan. Throws ConfigError naming the file, the document and the field.
 */
export function readRenderPlan(text: string, file: string): RenderPlan {
  const { values, manifests } = readYamlDocuments(text, file);
  if (manifests) return planFromPaddleServices(file, readPaddleServices(values, file));
  return planFromServiceSpecs(file, parseServiceFileYaml(text, file).services);
}
