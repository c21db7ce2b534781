import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/index.js';
import { formatIssues } from './format-issues.js';

/**
 * The service file (`services.yaml`): services, their variants and how traffic reaches them.
 * One schema for the whole file, shared by `flotilla gateway`, `flotilla up` and `flotilla render`;
 * unknown keys are rejected and every default lives in SERVICE_FILE_DEFAULTS.
 */

/**
 * Knative's autoscaling defaults (its `config-autoscaler` and the revision's
 * `containerConcurrency`), in the service file's units: the one place they are written.
 * ElasticServing keeps them, so a PaddleService that leaves a key out gets these; a service file
 * gets them too, except for the laptop-sized `min`, `max` and `targetConcurrency` below.
 */
export const KNATIVE_SCALE_DEFAULTS = Object.freeze({
  /** Knative `container-concurrency-target-default`: 100 requests in flight per replica. */
  targetConcurrency: 100,
  /** `container-concurrency-target-percentage` 70, as a fraction. */
  targetUtilization: 0.7,
  stableWindowMs: 60_000,
  panicWindowPercent: 10,
  panicThresholdPercent: 200,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  /** `scale-to-zero-grace-period`: after a stable window without requests, this much more. */
  scaleToZeroAfterMs: 30_000,
  /** `scale-down-delay`: 0, a scale-down applies at once. */
  scaleDownDelayMs: 0,
  /** `activation-scale`: replicas started when a variant at zero sees load. */
  activationScale: 1,
  /** The revision's `containerConcurrency`: requests one replica is given at most; 0 = unlimited. */
  containerConcurrency: 0,
});

export const SERVICE_FILE_DEFAULTS = Object.freeze({
  balancer: 'least_request' as const,
  healthCheck: Object.freeze({
    path: '/v2/health/ready',
    intervalMs: 2000,
    timeoutMs: 1000,
    healthyThreshold: 1,
    unhealthyThreshold: 2,
  }),
  outlierDetection: Object.freeze({
    consecutive5xx: 5,
    consecutiveGatewayErrors: 3,
    baseEjectionTimeMs: 30_000,
    maxEjectionTimeMs: 300_000,
    maxEjectionPercent: 50,
  }),
  /** Small fleets: 20 % of a few requests in flight is no retry at all, so the floor is 10. */
  retry: Object.freeze({ maxRetries: 2, budgetPercent: 20, minRetryConcurrency: 10 }),
  timeouts: Object.freeze({ perTryMs: 30_000, totalMs: 60_000 }),
  /** TLS to static endpoints: the replicas' certificates are verified unless told otherwise. */
  tls: Object.freeze({ insecureSkipVerify: false }),
  /**
   * `dns://` endpoints: re-resolve every `intervalMs`, sooner when the records' TTL says so, but
   * never more often than every `minIntervalMs` (a TTL of 0 must not turn into a busy loop).
   */
  discovery: Object.freeze({ intervalMs: 5000, minIntervalMs: 1000 }),
  /** Canary requests a rollout step needs before it judges (and advances). */
  rolloutMinRequests: 20,
  /** Knative's, but sized for one machine: a few replicas, each batching a few requests. */
  scale: Object.freeze({
    ...KNATIVE_SCALE_DEFAULTS,
    min: 1,
    max: 4,
    targetConcurrency: 4,
  }),
});

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const name = (what: string) =>
  z.string().regex(NAME, `${what}: letters, digits, '_', '.', '-', starting with a letter or digit`);

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `"250ms"`, `"30s"`, `"2m"`, `"1h"` -> milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'a duration with a unit is expected, e.g. "30s", "250ms" or "2m"',
    });
    return z.NEVER;
  }
  return ms;
});

/** A replica's address: `host:port` (IPv6 in brackets). */
export interface Address {
  readonly host: string;
  readonly port: number;
}

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/;

/** Parses `host:port`; undefined if it is not one. */
export function parseAddress(text: string): Address | undefined {
  const m = ADDRESS.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

/** `host:port` of an address. */
export const formatAddress = (a: Address): string => `${a.host}:${a.port}`;

/**
 * Paddle Serving's cluster naming: `"list://127.0.0.1:8010, 127.0.0.1:8011"` (the `list://` prefix
 * is optional) or a YAML list of `host:port`. Throws a message naming the bad entry.
 */
export function parseEndpoints(spec: string | readonly string[]): Address[] {
  const items = typeof spec === 'string' ? spec.replace(/^list:\/\//, '').split(',') : spec;
  const out: Address[] = [];
  for (const item of items) {
    if (item.trim() === '') continue;
    const a = parseAddress(item);
    if (!a) throw new Error(`${JSON.stringify(item.trim())} is not host:port`);
    out.push(a);
  }
  if (out.length === 0) throw new Error('no address given');
  return out;
}

/**
 * Paddle Serving's `variant_weight_list`: `"50 | 50"`. Its rules: as many weights as variants, each
 * a non-negative integer, and a sum above zero. Throws a message saying which rule failed.
 */
export function parsePaddleWeights(text: string, variants: number): number[] {
  const parts = text.split('|').map((s) => s.trim());
  const bad = parts.find((p) => !/^\d+$/.test(p));
  if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} is not a non-negative integer weight`);
  if (parts.length !== variants) {
    throw new Error(`${parts.length} weights for ${variants} variants: give one weight per variant`);
  }
  const weights = parts.map(Number);
  if (weights.reduce((a, b) => a + b, 0) <= 0)
    throw new Error('the weights add up to 0: at least one must be positive');
  return weights;
}

/** A name the gateway resolves for replicas (`dns://NAME:PORT`): its A and AAAA records, at one port. */
export interface DnsName {
  /** A host name, e.g. a Kubernetes headless Service `mnist-stable.default.svc.cluster.local`. */
  readonly name: string;
  readonly port: number;
}

/** RFC 1123 host name: dot-separated labels of letters, digits and '-' (and '_', seen in the wild). */
const HOST_NAME =
  /^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/**
 * Parses `dns://NAME:PORT`; undefined when the text does not start with `dns://`. Throws a message
 * naming the problem when it does but is not a host name and a port.
 */
export function parseDnsName(text: string): DnsName | undefined {
  const t = text.trim();
  if (!t.startsWith('dns://')) return undefined;
  const m = /^dns:\/\/([^:/\s]+):(\d{1,5})$/.exec(t);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) throw new Error(`${JSON.stringify(t)} is not dns://NAME:PORT`);
  const name = m[1]!;
  if (!HOST_NAME.test(name) || /^[\d.]+$/.test(name))
    throw new Error(`${JSON.stringify(name)} is not a host name to resolve (dns://NAME:PORT)`);
  return { name: name.replace(/\.$/, ''), port };
}

const endpointsField = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((spec, ctx): Address[] | DnsName => {
    try {
      return (typeof spec === 'string' ? parseDnsName(spec) : undefined) ?? parseEndpoints(spec);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `${(err as Error).message} (expected "list://host:port, host:port" or "dns://NAME:PORT")`,
      });
      return z.NEVER;
    }
  });

const isDnsName = (e: Address[] | DnsName | undefined): e is DnsName => e !== undefined && !Array.isArray(e);

/** TLS (optionally mTLS) from the gateway to a variant's static endpoints. */
const upstreamTlsSchema = z
  .strictObject({
    /** PEM CA bundle that signed the replicas' certificates (default: Node's built-in roots). */
    ca: z.string().min(1).optional(),
    /** PEM client certificate and key the gateway presents (replicas that require mTLS). */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** The name the replicas' certificates are checked against (and SNI), when not the address's host. */
    serverName: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().default(SERVICE_FILE_DEFAULTS.tls.insecureSkipVerify),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'cert and key go together (a client certificate needs its key)',
  });

const scaleSchema = z.strictObject({
  min: z.int().min(0).default(SERVICE_FILE_DEFAULTS.scale.min),
  max: z.int().min(1).default(SERVICE_FILE_DEFAULTS.scale.max),
  initial: z.int().min(0).optional(),
  targetConcurrency: z.number().positive().default(SERVICE_FILE_DEFAULTS.scale.targetConcurrency),
  targetUtilization: z.number().gt(0).max(1).default(SERVICE_FILE_DEFAULTS.scale.targetUtilization),
  stableWindow: duration.optional(),
  panicWindowPercent: z.number().gt(0).max(100).default(SERVICE_FILE_DEFAULTS.scale.panicWindowPercent),
  panicThresholdPercent: z.number().gt(100).default(SERVICE_FILE_DEFAULTS.scale.panicThresholdPercent),
  maxScaleUpRate: z.number().gt(1).default(SERVICE_FILE_DEFAULTS.scale.maxScaleUpRate),
  maxScaleDownRate: z.number().gt(1).default(SERVICE_FILE_DEFAULTS.scale.maxScaleDownRate),
  scaleToZeroAfter: duration.optional(),
  scaleDownDelay: duration.optional(),
  activationScale: z.int().min(1).default(SERVICE_FILE_DEFAULTS.scale.activationScale),
  /** A hard limit of requests in flight per replica (Knative's); 0 = unlimited. */
  containerConcurrency: z.int().min(0).default(SERVICE_FILE_DEFAULTS.scale.containerConcurrency),
});

const variantSchema = z.strictObject({
  tag: name('tag'),
  weight: z.number().min(0).finite().optional(),
  /** The model name at the replicas when it differs from the service's (endpoints/command). */
  modelName: name('modelName').optional(),
  /** A model version to ask the replicas for when the request names none. */
  modelVersion: z.int().min(1).optional(),
  model: z
    .strictObject({
      repository: z.string().min(1),
      name: name('model.name'),
      version: z.int().min(1).optional(),
      /** Models the replica loads besides this one (the parts a js pipeline calls). */
      with: z.array(name('model.with')).optional(),
    })
    .optional(),
  command: z.string().min(1).optional(),
  endpoints: endpointsField.optional(),
  /** gRPC addresses of the same replicas, in the same order as `endpoints`. */
  grpcEndpoints: endpointsField.optional(),
  /** Speak TLS to `endpoints` and `grpcEndpoints` (`tls: {}` trusts Node's built-in CAs). */
  tls: upstreamTlsSchema.optional(),
  scale: scaleSchema.optional(),
});

const healthCheckSchema = z.strictObject({
  path: z.string().startsWith('/').default(SERVICE_FILE_DEFAULTS.healthCheck.path),
  interval: duration.optional(),
  timeout: duration.optional(),
  healthyThreshold: z.int().min(1).default(SERVICE_FILE_DEFAULTS.healthCheck.healthyThreshold),
  unhealthyThreshold: z.int().min(1).default(SERVICE_FILE_DEFAULTS.healthCheck.unhealthyThreshold),
});

const outlierSchema = z.strictObject({
  consecutive5xx: z.int().min(1).default(SERVICE_FILE_DEFAULTS.outlierDetection.consecutive5xx),
  consecutiveGatewayErrors: z
    .int()
    .min(1)
    .default(SERVICE_FILE_DEFAULTS.outlierDetection.consecutiveGatewayErrors),
  baseEjectionTime: duration.optional(),
  maxEjectionTime: duration.optional(),
  maxEjectionPercent: z
    .number()
    .min(0)
    .max(100)
    .default(SERVICE_FILE_DEFAULTS.outlierDetection.maxEjectionPercent),
});

/** `false` (turned off) or the section's object; errors point inside the object, not at a union. */
function offOr<T extends z.ZodType>(schema: T) {
  return z.unknown().transform((value, ctx): false | z.output<T> => {
    if (value === false) return false;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues)
      ctx.addIssue({ ...issue, message: issue.message } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });
}

const discoverySchema = z.strictObject({
  interval: duration.optional(),
  minInterval: duration.optional(),
});

const serviceSchema = z
  .strictObject({
    host: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    path: z
      .string()
      .regex(/^(\/[A-Za-z0-9_.~-]+)+$/, 'a path prefix such as /mnist: starts with /, no trailing /')
      .optional(),
    slo: z.strictObject({ latencyMs: z.number().positive(), errorRate: z.number().min(0).max(1) }).optional(),
    variants: z.array(variantSchema).min(1),
    /** Paddle's `variant_weight_list`, instead of a weight on each variant. */
    weights: z.string().optional(),
    mirror: z
      .strictObject({ variant: name('mirror.variant'), percent: z.number().gt(0).max(100) })
      .optional(),
    balancer: z.enum(['least_request', 'round_robin']).default(SERVICE_FILE_DEFAULTS.balancer),
    healthCheck: offOr(healthCheckSchema).optional(),
    outlierDetection: offOr(outlierSchema).optional(),
    retry: z
      .strictObject({
        maxRetries: z.int().min(0).max(10).default(SERVICE_FILE_DEFAULTS.retry.maxRetries),
        budgetPercent: z.number().min(0).max(100).default(SERVICE_FILE_DEFAULTS.retry.budgetPercent),
        minRetryConcurrency: z.int().min(0).default(SERVICE_FILE_DEFAULTS.retry.minRetryConcurrency),
      })
      .optional(),
    timeouts: z.strictObject({ perTry: duration.optional(), total: duration.optional() }).optional(),
    /** How `dns://` endpoints are re-resolved. */
    discovery: discoverySchema.optional(),
    rollout: z
      .strictObject({
        steps: z.array(z.number().gt(0).max(100)).min(1),
        interval: duration,
        minRequests: z.int().min(1).default(SERVICE_FILE_DEFAULTS.rolloutMinRequests),
      })
      .optional(),
  })
  .superRefine((s, ctx) => checkService(s, ctx));

type RawService = z.output<typeof serviceSchema>;

function checkService(s: Omit<RawService, never>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  s.variants.forEach((v, i) => {
    const at = (...path: (string | number)[]): (string | number)[] => ['variants', i, ...path];
    if (seen.has(v.tag))
      ctx.addIssue({ code: 'custom', path: at('tag'), message: `tag ${v.tag} is used twice` });
    seen.add(v.tag);
    const kinds = (['model', 'command', 'endpoints'] as const).filter((k) => v[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: at(),
        message: `a variant has exactly one of model, command or endpoints (it has ${kinds.length === 0 ? 'none' : kinds.join(' and ')})`,
      });
    }
    if (v.model && (v.modelName !== undefined || v.modelVersion !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: at('modelName'),
        message: 'a model variant names its model in model.name/version',
      });
    }
    if (isDnsName(v.endpoints) || isDnsName(v.grpcEndpoints)) {
      const http = v.endpoints;
      const grpc = v.grpcEndpoints;
      if (grpc !== undefined && (!isDnsName(http) || !isDnsName(grpc) || grpc.name !== http.name)) {
        ctx.addIssue({
          code: 'custom',
          path: at('grpcEndpoints'),
          message: isDnsName(http)
            ? `the same replicas' gRPC port: dns://${http.name}:PORT`
            : 'dns:// gRPC endpoints go with dns:// endpoints of the same name',
        });
      }
    } else if (v.grpcEndpoints && v.grpcEndpoints.length !== v.endpoints?.length) {
      ctx.addIssue({
        code: 'custom',
        path: at('grpcEndpoints'),
        message: 'one gRPC address per address in endpoints, in the same order',
      });
    }
    if (v.tls && !v.endpoints) {
      ctx.addIssue({
        code: 'custom',
        path: at('tls'),
        message: 'tls is for static endpoints (replicas flotilla up starts listen on loopback without it)',
      });
    }
    if (v.endpoints && v.scale) {
      ctx.addIssue({
        code: 'custom',
        path: at('scale'),
        message: 'static endpoints do not scale: remove scale or use model/command',
      });
    }
    if (v.scale && v.scale.min > v.scale.max) {
      ctx.addIssue({
        code: 'custom',
        path: at('scale', 'min'),
        message: `min ${v.scale.min} exceeds max ${v.scale.max}`,
      });
    }
  });
  const withWeight = s.variants.filter((v) => v.weight !== undefined).length;
  if (s.weights !== undefined) {
    if (withWeight > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['weights'],
        message: 'give weights either here or on each variant, not both',
      });
    try {
      parsePaddleWeights(s.weights, s.variants.length);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['weights'], message: (err as Error).message });
    }
  } else if (withWeight > 0 && withWeight < s.variants.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['variants'],
      message: 'give every variant a weight, or none (equal shares)',
    });
  } else if (withWeight > 0 && s.variants.every((v) => v.weight === 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['variants'],
      message: 'the weights add up to 0: at least one must be positive',
    });
  }
  const d = SERVICE_FILE_DEFAULTS.discovery;
  const interval = s.discovery?.interval ?? d.intervalMs;
  const minInterval = s.discovery?.minInterval ?? d.minIntervalMs;
  if (minInterval > interval || minInterval <= 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['discovery', s.discovery?.minInterval !== undefined ? 'minInterval' : 'interval'],
      message: `minInterval (${minInterval} ms) must be above 0 and at most interval (${interval} ms)`,
    });
  }
  if (s.mirror && !seen.has(s.mirror.variant)) {
    ctx.addIssue({
      code: 'custom',
      path: ['mirror', 'variant'],
      message: `no variant tagged ${s.mirror.variant}; tags: ${[...seen].join(', ')}`,
    });
  }
  if (s.rollout?.steps.some((x, i, a) => i > 0 && x <= a[i - 1]!)) {
    ctx.addIssue({ code: 'custom', path: ['rollout', 'steps'], message: 'steps must increase' });
  }
  if (s.rollout && s.variants.length !== 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['rollout'],
      message: `a progressive rollout moves traffic between two variants (stable and canary); this service has ${s.variants.length}`,
    });
  }
  if (s.rollout && !s.slo) {
    ctx.addIssue({
      code: 'custom',
      path: ['rollout'],
      message: 'a progressive rollout is judged against the service slo: add slo: { latencyMs, errorRate }',
    });
  }
}

const serviceFileSchema = z
  .strictObject({ services: z.record(z.string(), serviceSchema) })
  .superRefine((f, ctx) => {
    for (const svc of Object.keys(f.services)) {
      if (!NAME.test(svc)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', svc],
          message: "a service name has letters, digits, '_', '.', '-', starting with a letter or digit",
        });
      }
    }
    const routes = new Map<string, string>();
    for (const [svc, s] of Object.entries(f.services)) {
      for (const host of hostsOf(s.host) ?? ['*']) {
        if (s.host === undefined && s.path === undefined) continue;
        const key = `${host}${s.path ?? ''}`;
        const other = routes.get(key);
        if (other)
          ctx.addIssue({
            code: 'custom',
            path: ['services', svc],
            message: `routes the same host and path as ${other}`,
          });
        routes.set(key, svc);
      }
    }
    if (Object.keys(f.services).length === 0)
      ctx.addIssue({ code: 'custom', path: ['services'], message: 'no service defined' });
  });

function hostsOf(host: string | readonly string[] | undefined): string[] | undefined {
  if (host === undefined) return undefined;
  return (typeof host === 'string' ? [host] : [...host]).map((h) => h.toLowerCase());
}

/** What runs a variant's replicas. */
export type VariantRuns =
  | {
      readonly kind: 'endpoints';
      /** The static addresses; empty when `dns` finds them at run time. */
      readonly endpoints: readonly Address[];
      readonly grpcEndpoints?: readonly Address[];
      /** `endpoints: "dns://NAME:PORT"`: the replicas are the name's A/AAAA records, re-resolved. */
      readonly dns?: DnsEndpoints;
      /** TLS to these endpoints; files resolved against the service file's folder. */
      readonly tls?: UpstreamTlsSpec;
    }
  | {
      readonly kind: 'model';
      readonly repository: string;
      readonly name: string;
      readonly version?: number;
      /** Other models the replica loads (a pipeline's parts). */
      readonly with?: readonly string[];
    }
  | { readonly kind: 'command'; readonly command: string };

/** Replicas found by DNS: the addresses of `name`, each at `port` (and `grpcPort`). */
export interface DnsEndpoints {
  readonly name: string;
  readonly port: number;
  readonly grpcPort?: number;
  /** Re-resolve at least this often (milliseconds). */
  readonly intervalMs: number;
  /** ... and never more often than this, whatever the TTL (milliseconds). */
  readonly minIntervalMs: number;
}

/** TLS from the gateway to static endpoints, with absolute file paths. */
export interface UpstreamTlsSpec {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
}

function toUpstreamTls(t: NonNullable<RawVariant['tls']>, baseDir: string): UpstreamTlsSpec {
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
  const caFile = path(t.ca);
  const certFile = path(t.cert);
  const keyFile = path(t.key);
  return {
    ...(caFile ? { caFile } : {}),
    ...(certFile ? { certFile } : {}),
    ...(keyFile ? { keyFile } : {}),
    ...(t.serverName ? { serverName: t.serverName } : {}),
    insecureSkipVerify: t.insecureSkipVerify,
  };
}

/** Autoscaling of a managed variant (Knative KPA terms), durations in milliseconds. */
export interface ScaleSpec {
  readonly min: number;
  readonly max: number;
  readonly initial?: number;
  readonly targetConcurrency: number;
  readonly targetUtilization: number;
  readonly stableWindowMs: number;
  readonly panicWindowPercent: number;
  readonly panicThresholdPercent: number;
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
  readonly scaleToZeroAfterMs: number;
  readonly scaleDownDelayMs: number;
  readonly activationScale: number;
  /** Requests in flight one replica is given at most (the activator enforces it); 0 = unlimited. */
  readonly containerConcurrency: number;
}

/** One variant, validated, with its weight resolved. */
export interface VariantSpec {
  readonly tag: string;
  /** Traffic weight (relative to the service's other variants; >= 0). */
  readonly weight: number;
  /** The model name the replicas serve (model.name, modelName, or the service's name). */
  readonly modelName: string;
  /** The version asked for when a request names none. */
  readonly modelVersion?: string;
  readonly runs: VariantRuns;
  readonly scale?: ScaleSpec;
}

/** Active health checking (Envoy's terms), durations in milliseconds. */
export interface HealthCheckSpec {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** Passive outlier ejection (Envoy's terms), durations in milliseconds. */
export interface OutlierDetectionSpec {
  readonly consecutive5xx: number;
  /** Connection refused/reset and timeouts in a row. */
  readonly consecutiveGatewayErrors: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

/** Retries on another replica, bounded by a budget (Envoy's retry_budget). */
export interface RetrySpec {
  readonly maxRetries: number;
  readonly budgetPercent: number;
  readonly minRetryConcurrency: number;
}

/** One service, validated, with defaults applied. */
export interface ServiceSpec {
  readonly name: string;
  /** Lower-case Host header values that route here (empty: any host). */
  readonly hosts: readonly string[];
  readonly path?: string;
  readonly slo?: { readonly latencyMs: number; readonly errorRate: number };
  readonly variants: readonly VariantSpec[];
  readonly mirror?: { readonly variant: string; readonly percent: number };
  readonly balancer: 'least_request' | 'round_robin';
  /** Undefined when turned off (`healthCheck: false`). */
  readonly healthCheck?: HealthCheckSpec;
  /** Undefined when turned off (`outlierDetection: false`). */
  readonly outlierDetection?: OutlierDetectionSpec;
  readonly retry: RetrySpec;
  readonly timeouts: { readonly perTryMs: number; readonly totalMs: number };
  readonly rollout?: {
    readonly steps: readonly number[];
    readonly intervalMs: number;
    readonly minRequests: number;
  };
}

/** A validated service file. */
export interface ServiceFile {
  /** Where it was read from (named in errors and by reloads). */
  readonly file: string;
  readonly services: readonly ServiceSpec[];
}

type RawVariant = z.output<typeof variantSchema>;

function toVariant(
  v: RawVariant,
  service: string,
  weight: number,
  baseDir: string,
  discovery: RawService['discovery'],
): VariantSpec {
  const d = SERVICE_FILE_DEFAULTS.scale;
  const runs: VariantRuns = v.model
    ? {
        kind: 'model',
        repository: v.model.repository,
        name: v.model.name,
        ...(v.model.version ? { version: v.model.version } : {}),
        ...(v.model.with ? { with: v.model.with } : {}),
      }
    : v.command
      ? { kind: 'command', command: v.command }
      : isDnsName(v.endpoints)
        ? {
            kind: 'endpoints',
            endpoints: [],
            dns: {
              ...v.endpoints,
              ...(isDnsName(v.grpcEndpoints) ? { grpcPort: v.grpcEndpoints.port } : {}),
              intervalMs: discovery?.interval ?? SERVICE_FILE_DEFAULTS.discovery.intervalMs,
              minIntervalMs: discovery?.minInterval ?? SERVICE_FILE_DEFAULTS.discovery.minIntervalMs,
            },
            // The replicas are reached by address; their certificates name the DNS name.
            ...(v.tls
              ? {
                  tls: toUpstreamTls({ ...v.tls, serverName: v.tls.serverName ?? v.endpoints.name }, baseDir),
                }
              : {}),
          }
        : {
            kind: 'endpoints',
            endpoints: v.endpoints ?? [],
            ...(v.grpcEndpoints && !isDnsName(v.grpcEndpoints) ? { grpcEndpoints: v.grpcEndpoints } : {}),
            ...(v.tls ? { tls: toUpstreamTls(v.tls, baseDir) } : {}),
          };
  const version = v.model?.version ?? v.modelVersion;
  const { stableWindow, scaleToZeroAfter, scaleDownDelay, initial, ...scale } =
    v.scale ?? scaleSchema.parse({});
  return {
    tag: v.tag,
    weight,
    modelName: v.model?.name ?? v.modelName ?? service,
    ...(version !== undefined ? { modelVersion: String(version) } : {}),
    runs,
    ...(runs.kind === 'endpoints'
      ? {}
      : {
          scale: {
            ...scale,
            ...(initial !== undefined ? { initial } : {}),
            stableWindowMs: stableWindow ?? d.stableWindowMs,
            scaleToZeroAfterMs: scaleToZeroAfter ?? d.scaleToZeroAfterMs,
            scaleDownDelayMs: scaleDownDelay ?? d.scaleDownDelayMs,
          },
        }),
  };
}

function toService(name: string, s: RawService, baseDir: string): ServiceSpec {
  const weights = s.weights !== undefined ? parsePaddleWeights(s.weights, s.variants.length) : undefined;
  const hc = s.healthCheck === undefined ? healthCheckSchema.parse({}) : s.healthCheck;
  const od = s.outlierDetection === undefined ? outlierSchema.parse({}) : s.outlierDetection;
  const dh = SERVICE_FILE_DEFAULTS.healthCheck;
  const dod = SERVICE_FILE_DEFAULTS.outlierDetection;
  return {
    name,
    hosts: hostsOf(s.host) ?? [],
    ...(s.path !== undefined ? { path: s.path } : {}),
    ...(s.slo ? { slo: s.slo } : {}),
    variants: s.variants.map((v, i) =>
      toVariant(v, name, weights?.[i] ?? v.weight ?? 1, baseDir, s.discovery),
    ),
    ...(s.mirror ? { mirror: s.mirror } : {}),
    balancer: s.balancer,
    ...(hc === false
      ? {}
      : {
          healthCheck: {
            path: hc.path,
            intervalMs: hc.interval ?? dh.intervalMs,
            timeoutMs: hc.timeout ?? dh.timeoutMs,
            healthyThreshold: hc.healthyThreshold,
            unhealthyThreshold: hc.unhealthyThreshold,
          },
        }),
    ...(od === false
      ? {}
      : {
          outlierDetection: {
            consecutive5xx: od.consecutive5xx,
            consecutiveGatewayErrors: od.consecutiveGatewayErrors,
            baseEjectionTimeMs: od.baseEjectionTime ?? dod.baseEjectionTimeMs,
            maxEjectionTimeMs: od.maxEjectionTime ?? dod.maxEjectionTimeMs,
            maxEjectionPercent: od.maxEjectionPercent,
          },
        }),
    retry: s.retry ?? { ...SERVICE_FILE_DEFAULTS.retry },
    timeouts: {
      perTryMs: s.timeouts?.perTry ?? SERVICE_FILE_DEFAULTS.timeouts.perTryMs,
      totalMs: s.timeouts?.total ?? SERVICE_FILE_DEFAULTS.timeouts.totalMs,
    },
    ...(s.rollout
      ? {
          rollout: {
            steps: s.rollout.steps,
            intervalMs: s.rollout.interval,
            minRequests: s.rollout.minRequests,
          },
        }
      : {}),
  };
}

/** Validates a parsed service file; `file` names it in errors (`file: services.mnist.variants[1].weight: …`). */
export function parseServiceFile(raw: unknown, file: string): ServiceFile {
  const result = serviceFileSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(file, formatIssues(result.error, raw));
  // TLS files named in the service file are relative to its folder.
  const baseDir = dirname(resolve(file));
  return {
    file,
    services: Object.entries(result.data.services).map(([n, s]) => toService(n, s, baseDir)),
  };
}

/** Parses the YAML text of a service file; `file` names it in errors. */
export function parseServiceFileYaml(text: string, file: string): ServiceFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, `not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return parseServiceFile(raw, file);
}
