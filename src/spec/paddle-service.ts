import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/index.js';
import { formatIssues } from './format-issues.js';
import { parseDuration, parseServiceFile, parseServiceFileYaml, type ServiceFile } from './service-file.js';

/**
 * ElasticServing's `PaddleService` custom resource (elasticserving.paddlepaddle.org/v1), read as a
 * service file: each PaddleService becomes one Flotilla service with a `default` and an optional
 * `canary` variant. The mapped service goes through `parseServiceFile`, so the gateway's defaults
 * and checks stay in one place; this module only checks what a PaddleService may say and names
 * PaddleService paths (`spec.service.window`) in its errors.
 */

export const PADDLE_SERVICE_API_VERSION = 'elasticserving.paddlepaddle.org/v1';

/**
 * ElasticServing's defaults (its pkg/constants), not Flotilla's: a PaddleService written for a
 * cluster must scale the same way here. Knative routes `<name>.<namespace>.<domain>`.
 */
export const PADDLE_SERVICE_DEFAULTS = Object.freeze({
  namespace: 'default',
  domain: 'example.com',
  canaryTrafficPercent: 0,
  minScale: 1,
  maxScale: 10,
  target: 100,
  targetUtilization: 70,
  window: '60s',
  panicWindow: 10,
  panicThreshold: 200,
});

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsLabel = z
  .string()
  .regex(
    DNS_LABEL,
    "a DNS label: lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit",
  );

/** ElasticServing declares these as strings (Knative annotations); YAML users also write numbers. */
const NUMERIC = 'a number is expected, e.g. 70 or "70"';
const numeric = z.union([z.number(), z.string()], { error: NUMERIC }).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  ctx.addIssue({ code: 'custom', message: NUMERIC });
  return z.NEVER;
});

/** Knative refuses a stable window outside 6s..1h, so a cluster would refuse it too. */
const window = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 6000 || ms > 3_600_000) {
    ctx.addIssue({ code: 'custom', message: 'a duration from 6s to 1h is expected, e.g. "60s" or "2m"' });
    return z.NEVER;
  }
  return ms;
});

const quantity = z.union([z.string(), z.number()]);
const resourcesSchema = z.strictObject({
  limits: z.record(z.string(), quantity).optional(),
  requests: z.record(z.string(), quantity).optional(),
});

const endpointSchema = z.strictObject({
  containerImage: z.string().min(1).optional(),
  tag: z.string().optional(),
  port: z.int().min(1).max(65535).optional(),
  arg: z.string().optional(),
  resources: resourcesSchema.optional(),
  workingDir: z.string().optional(),
  storageUri: z.string().optional(),
  env: z.array(z.unknown()).optional(),
  /** Flotilla's extension: what runs this endpoint here instead of the container image. */
  command: z.string().min(1).optional(),
  model: z
    .strictObject({
      repository: z.string().min(1),
      name: z.string().min(1),
      version: z.int().min(1).optional(),
    })
    .optional(),
});

const serviceSchema = z.strictObject({
  autoscaler: z.enum(['kpa.autoscaling.knative.dev', 'hpa.autoscaling.knative.dev']).optional(),
  metric: z.enum(['concurrency', 'rps', 'cpu']).optional(),
  minScale: z.int().min(0).optional(),
  /** 0 is ElasticServing's "unset" (a Go int cannot tell them apart): the default applies. */
  maxScale: z.int().min(0).optional(),
  /** 0 is "unset" here too, for the same reason. */
  target: z.int().min(0).optional(),
  targetUtilization: numeric.pipe(z.number().gt(0).max(100)).optional(),
  window: window.optional(),
  panicWindow: numeric.pipe(z.number().gt(0).max(100)).optional(),
  panicThreshold: numeric.pipe(z.number().gt(100)).optional(),
});

const paddleServiceSchema = z.strictObject({
  apiVersion: z.literal(PADDLE_SERVICE_API_VERSION),
  kind: z.literal('PaddleService'),
  metadata: z.strictObject({
    name: dnsLabel,
    namespace: dnsLabel.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    default: endpointSchema,
    canary: endpointSchema.optional(),
    canaryTrafficPercent: z.int().min(0).max(100).optional(),
    service: serviceSchema.optional(),
    runtimeVersion: z.string().optional(),
    resources: resourcesSchema.optional(),
    workingDir: z.string().optional(),
    storageUri: z.string().optional(),
    volumeMounts: z.array(z.unknown()).optional(),
    volumes: z.array(z.unknown()).optional(),
  }),
  /** Written by the cluster (`kubectl get -o yaml`); nothing here reads it. */
  status: z.unknown().optional(),
});

/** One checked PaddleService, as written (ElasticServing's fields; `flotilla render` reads them all). */
export type PaddleService = z.output<typeof paddleServiceSchema>;
/** A PaddleService's `spec.default` or `spec.canary`. */
export type PaddleEndpoint = z.output<typeof endpointSchema>;
type Endpoint = PaddleEndpoint;

const ENDPOINTS = ['default', 'canary'] as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Kubernetes object rather than a Flotilla service file (which never has `kind`). */
const isManifest = (v: unknown): boolean => isObject(v) && 'kind' in v;

/** What no cluster would accept either, in PaddleService terms; empty when the service is sound. */
function inconsistencies(ps: PaddleService): string[] {
  const out: string[] = [];
  const { spec } = ps;
  if (spec.canaryTrafficPercent !== undefined && spec.canary === undefined) {
    out.push(
      `spec.canaryTrafficPercent: there is no spec.canary to send ${spec.canaryTrafficPercent}% of the traffic to`,
    );
  }
  for (const key of ENDPOINTS) {
    const e = spec[key];
    if (e?.command !== undefined && e.model !== undefined)
      out.push(`spec.${key}: give command or model, not both`);
  }
  const { min, max } = paddleServiceScale(ps);
  if (min > max) {
    out.push(
      `spec.service.minScale: minScale ${min} exceeds maxScale ${max}${ps.spec.service?.maxScale ? '' : ' (the default)'}`,
    );
  }
  return out;
}

/** What cannot run or scale here (`flotilla up`), in PaddleService terms; empty when the service maps. */
function problems(ps: PaddleService): string[] {
  const out: string[] = [];
  const { spec } = ps;
  for (const key of ENDPOINTS) {
    const e = spec[key];
    if (e === undefined) continue;
    if (e.command === undefined && e.model === undefined) {
      const add = `add command: "<command that listens on $PORT>" (or model: {repository, name, version}) to spec.${key}`;
      out.push(
        e.containerImage === undefined
          ? `spec.${key}: nothing to run on this machine: ${add}`
          : `spec.${key}.containerImage: ${e.containerImage} is a container image, which flotilla up cannot run on this machine: ${add}`,
      );
    }
  }
  const s = spec.service;
  if (s?.metric !== undefined && s.metric !== 'concurrency') {
    out.push(
      `spec.service.metric: only concurrency is supported by flotilla up's autoscaler (got "${s.metric}")`,
    );
  }
  if (s?.autoscaler === 'hpa.autoscaling.knative.dev') {
    out.push(
      `spec.service.autoscaler: only kpa.autoscaling.knative.dev is supported by flotilla up's autoscaler (got "${s.autoscaler}")`,
    );
  }
  return out;
}

/**
 * A PaddleService's autoscaling with ElasticServing's defaults applied, in Flotilla's terms
 * (utilization as a fraction, the window as a duration string).
 */
export function paddleServiceScale(ps: PaddleService) {
  const d = PADDLE_SERVICE_DEFAULTS;
  const s = ps.spec.service ?? {};
  return {
    min: s.minScale ?? d.minScale,
    max: s.maxScale ? s.maxScale : d.maxScale,
    targetConcurrency: s.target ? s.target : d.target,
    // Knative speaks percent; Flotilla's scale speaks fractions.
    targetUtilization: (s.targetUtilization ?? d.targetUtilization) / 100,
    stableWindow: s.window === undefined ? d.window : `${s.window}ms`,
    panicWindowPercent: s.panicWindow ?? d.panicWindow,
    panicThresholdPercent: s.panicThreshold ?? d.panicThreshold,
  };
}

function runs(e: Endpoint): Record<string, unknown> {
  return e.command !== undefined ? { command: e.command } : { model: e.model };
}

/** The Flotilla service-file entry of one checked PaddleService. */
function toRawService(ps: PaddleService): Record<string, unknown> {
  const { name, namespace = PADDLE_SERVICE_DEFAULTS.namespace } = ps.metadata;
  const { spec } = ps;
  const scale = paddleServiceScale(ps);
  const canaryPercent = spec.canary
    ? (spec.canaryTrafficPercent ?? PADDLE_SERVICE_DEFAULTS.canaryTrafficPercent)
    : 0;
  const variants = [{ tag: 'default', weight: 100 - canaryPercent, ...runs(spec.default), scale }];
  if (spec.canary) variants.push({ tag: 'canary', weight: canaryPercent, ...runs(spec.canary), scale });
  return { host: [`${name}.${namespace}.${PADDLE_SERVICE_DEFAULTS.domain}`], variants };
}

/**
 * Runs one mapped service through the service-file checks on its own, so that whatever they still
 * refuse (a model name, say) is reported at the PaddleService path it came from.
 */
function checkMapped(
  name: string,
  raw: Record<string, unknown>,
  hasCanary: boolean,
  file: string,
  where: string,
): void {
  try {
    parseServiceFile({ services: { [name]: raw } }, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const prefix = `${file}: `;
    let body = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    const renames: [string, string][] = [
      [`services.${name}.variants[0]`, 'spec.default'],
      ...(hasCanary ? [[`services.${name}.variants[1]`, 'spec.canary'] as [string, string]] : []),
      [`services.${name}`, 'spec'],
    ];
    for (const [from, to] of renames) body = body.split(from).join(to);
    throw new ConfigError(file, `${where}: ${body}`, { cause: err });
  }
}

/**
 * Reads the parsed documents of a Kubernetes manifest as PaddleServices, checked against
 * ElasticServing's schema and for what no cluster would accept either (a canary percentage without a
 * canary, min above max, a name used twice), but not for what `flotilla up` cannot run here: the
 * container images `flotilla render` takes as they are. `Namespace` documents and empty documents are
 * skipped like kubectl does; anything else is an error. `file` names the file in errors, which also
 * name the document (counted from 1) and the PaddleService path. Each result comes with its errors'
 * prefix (`document 2 (PaddleService name)`).
 */
export function readPaddleServices(
  docs: readonly unknown[],
  file: string,
): { readonly service: PaddleService; readonly where: string }[] {
  const out: { service: PaddleService; where: string }[] = [];
  const documentOf = new Map<string, number>();
  docs.forEach((doc, i) => {
    const n = i + 1;
    if (doc === null || doc === undefined) return;
    const kind = isObject(doc) ? doc['kind'] : undefined;
    if (kind === 'Namespace') return;
    if (kind !== 'PaddleService') {
      const what = typeof kind === 'string' ? `kind ${kind}` : 'no kind';
      throw new ConfigError(
        file,
        `document ${n}: ${what}: only PaddleService (elasticserving.paddlepaddle.org/v1) and Namespace documents are read`,
      );
    }
    const metadata = isObject(doc) ? doc['metadata'] : undefined;
    const shownName =
      isObject(metadata) && typeof metadata['name'] === 'string' ? ` ${metadata['name']}` : '';
    const where = `document ${n} (PaddleService${shownName})`;
    const result = paddleServiceSchema.safeParse(doc);
    if (!result.success) throw new ConfigError(file, `${where}: ${formatIssues(result.error, doc)}`);
    const ps = result.data;
    const found = inconsistencies(ps);
    if (found.length > 0) throw new ConfigError(file, `${where}: ${found.join('; ')}`);
    const { name } = ps.metadata;
    const other = documentOf.get(name);
    if (other !== undefined) {
      throw new ConfigError(
        file,
        `${where}: metadata.name: document ${other} is a PaddleService named ${name} too; names must be unique`,
      );
    }
    documentOf.set(name, n);
    out.push({ service: ps, where });
  });
  if (out.length === 0) throw new ConfigError(file, 'no PaddleService document');
  return out;
}

/**
 * Maps the parsed documents of a Kubernetes manifest onto a service file for `flotilla up`: every
 * `PaddleService` becomes a service (read by `readPaddleServices`), and one that cannot run on this
 * machine (a container image without Flotilla's `command:` or `model:`) is an error.
 */
export function paddleServiceToServiceFile(docs: readonly unknown[], file: string): ServiceFile {
  const services: Record<string, unknown> = {};
  for (const { service: ps, where } of readPaddleServices(docs, file)) {
    const found = problems(ps);
    if (found.length > 0) throw new ConfigError(file, `${where}: ${found.join('; ')}`);
    const raw = toRawService(ps);
    checkMapped(ps.metadata.name, raw, ps.spec.canary !== undefined, file, where);
    services[ps.metadata.name] = raw;
  }
  return parseServiceFile({ services }, file);
}

/**
 * The YAML documents of a file, parsed; `manifests` is true when they are Kubernetes objects
 * (PaddleServices) rather than one Flotilla service file.
 */
export function readYamlDocuments(
  text: string,
  file: string,
): { readonly values: readonly unknown[]; readonly manifests: boolean } {
  const values: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    const error = doc.errors[0];
    if (error) throw new ConfigError(file, `not valid YAML: ${error.message}`, { cause: error });
    try {
      values.push(doc.toJS());
    } catch (err) {
      // toJS refuses alias bombs and unresolvable aliases, which are YAML problems too.
      throw new ConfigError(file, `not valid YAML: ${(err as Error).message}`, { cause: err });
    }
  }
  const manifests = values.some(isManifest);
  if (!manifests && values.length > 1) {
    // yaml's own message for this names its API (parseAllDocuments), which means nothing to a user.
    throw new ConfigError(
      file,
      `${values.length} YAML documents: a Flotilla service file is one document (several are read only as Kubernetes manifests with kind: PaddleService)`,
    );
  }
  return { values, manifests };
}

/**
 * Reads a service file that is either Flotilla's own (one YAML document, `parseServiceFileYaml`'s
 * behaviour and errors unchanged) or Kubernetes manifests holding ElasticServing PaddleServices.
 */
export function parseServiceYaml(text: string, file: string): ServiceFile {
  const { values, manifests } = readYamlDocuments(text, file);
  return manifests ? paddleServiceToServiceFile(values, file) : parseServiceFileYaml(text, file);
}
