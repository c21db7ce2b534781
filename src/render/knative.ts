import { SERVICE_FILE_DEFAULTS } from '../spec/index.js';
import { RenderError } from './errors.js';
import { checkName, labels, metadata } from './names.js';
import type { RenderedObject } from './object.js';
import { RENDER_DEFAULTS, type RenderOptions, refuseKubernetesOnlyFlags } from './options.js';
import type { PlanScale, PlanService, PlanVariant, RenderPlan } from './plan.js';
import { type PodContext, requestTimeoutS, variantPod } from './pod.js';

/**
 * The knative target: per service a Knative `Route` named after the service, and per variant a
 * `Configuration` (`<service>-<tag>`) whose revisions the Route splits traffic over by
 * `configurationName` and `percent`, each with its variant's `tag`.
 *
 * Why not one Knative Service: its one template makes one revision line, and splitting between
 * variants would name revisions (`revisionName`) that do not exist until the template has been
 * applied once per variant, so a first `kubectl apply` could not bring every variant up. A
 * Configuration per variant creates each variant's revisions on the first apply, and a Route that
 * follows each Configuration's latest ready revision (`latestRevision: true`) is valid on that first
 * apply and on every later one. The Route named `<service>` gets Knative's default host
 * `<service>.<namespace>.example.com`, the one ElasticServing users send; each tag gets
 * `<tag>-<service>.<namespace>.example.com`.
 */

const TARGET = 'knative';
const KPA = 'kpa.autoscaling.knative.dev';
const HPA = 'hpa.autoscaling.knative.dev';
const A = 'autoscaling.knative.dev';

/** Knative's autoscaling bounds (knative/serving pkg/apis/autoscaling). */
export const KNATIVE_LIMITS = Object.freeze({
  windowMinMs: 6000,
  windowMaxMs: 3_600_000,
  targetMin: 0.01,
  panicWindowPercent: [1, 100] as const,
  panicThresholdPercent: [110, 1000] as const,
  targetUtilizationPercent: [1, 100] as const,
  /** Knative's autoscaler decides these cluster-wide (config-autoscaler), not per revision. */
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
});

/** `60s`, `1m30s`… as Knative parses them (Go durations); whole seconds only. */
const seconds = (ms: number): string => `${ms / 1000}s`;

/** A number as an annotation value: no exponent, no trailing zeros. */
const num = (x: number): string => String(Number(x.toFixed(4)));

function unmappable(file: string, where: string, message: string): RenderError {
  return new RenderError(`${file}: ${where}: --target ${TARGET} ${message}`);
}

/** Knative's autoscaling annotations of a variant; a RenderError for a value Knative refuses. */
export function knativeAutoscaling(scale: PlanScale, file: string, where: string): Record<string, string> {
  const L = KNATIVE_LIMITS;
  const at = `${where}.scale`;
  const bad = (field: string, message: string) => unmappable(file, `${at}.${field}`, message);
  if (scale.stableWindowMs < L.windowMinMs || scale.stableWindowMs > L.windowMaxMs)
    throw bad('stableWindow', `takes a window from 6s to 1h (got ${seconds(scale.stableWindowMs)})`);
  if (scale.stableWindowMs % 1000 !== 0)
    throw bad('stableWindow', `takes a window in whole seconds (got ${scale.stableWindowMs}ms)`);
  if (scale.target < L.targetMin)
    throw bad('targetConcurrency', `takes a target of at least 0.01 (got ${scale.target})`);
  const utilization = scale.targetUtilization * 100;
  if (utilization < L.targetUtilizationPercent[0])
    throw bad(
      'targetUtilization',
      `takes a utilization of at least 0.01 (1%) (got ${scale.targetUtilization})`,
    );
  const [pwMin, pwMax] = L.panicWindowPercent;
  if (scale.panicWindowPercent < pwMin || scale.panicWindowPercent > pwMax)
    throw bad('panicWindowPercent', `takes ${pwMin} to ${pwMax} (got ${scale.panicWindowPercent})`);
  const [ptMin, ptMax] = L.panicThresholdPercent;
  if (scale.panicThresholdPercent < ptMin || scale.panicThresholdPercent > ptMax)
    throw bad('panicThresholdPercent', `takes ${ptMin} to ${ptMax} (got ${scale.panicThresholdPercent})`);
  if (scale.maxScaleUpRate !== L.maxScaleUpRate)
    throw bad(
      'maxScaleUpRate',
      `has no per-revision max scale-up rate (it is max-scale-up-rate in the cluster's config-autoscaler, default ${L.maxScaleUpRate}): remove it`,
    );
  if (scale.maxScaleDownRate !== L.maxScaleDownRate)
    throw bad(
      'maxScaleDownRate',
      `has no per-revision max scale-down rate (it is max-scale-down-rate in the cluster's config-autoscaler, default ${L.maxScaleDownRate}): remove it`,
    );
  if (scale.autoscalerClass === 'kpa' && scale.metric === 'cpu')
    throw bad('metric', 'scales on cpu only with the HPA class (hpa.autoscaling.knative.dev)');
  if (scale.autoscalerClass === 'hpa' && scale.metric === 'concurrency')
    throw bad('metric', 'scales on concurrency only with the KPA class (kpa.autoscaling.knative.dev)');
  const retention = scale.scaleToZeroAfterMs;
  if (retention !== undefined && (retention > L.windowMaxMs || retention % 1000 !== 0))
    throw bad('scaleToZeroAfter', `takes whole seconds up to 1h (got ${retention}ms)`);
  return {
    [`${A}/class`]: scale.autoscalerClass === 'hpa' ? HPA : KPA,
    [`${A}/metric`]: scale.metric,
    [`${A}/target`]: num(scale.target),
    [`${A}/target-utilization-percentage`]: num(utilization),
    [`${A}/window`]: seconds(scale.stableWindowMs),
    [`${A}/panic-window-percentage`]: num(scale.panicWindowPercent),
    [`${A}/panic-threshold-percentage`]: num(scale.panicThresholdPercent),
    [`${A}/min-scale`]: String(scale.min),
    [`${A}/max-scale`]: String(scale.max),
    ...(scale.initial !== undefined ? { [`${A}/initial-scale`]: String(scale.initial) } : {}),
    ...(retention !== undefined ? { [`${A}/scale-to-zero-pod-retention-period`]: seconds(retention) } : {}),
  };
}

/** Fields the gateway has and Knative does not: an error when set to anything but the default. */
function checkServiceFields(s: PlanService, file: string): void {
  const at = (field: string) => `${s.where}.${field}`;
  if (s.mirror)
    throw unmappable(
      file,
      at('mirror'),
      'has no traffic mirroring: remove mirror (or use --target kubernetes)',
    );
  const d = SERVICE_FILE_DEFAULTS;
  if (s.balancer !== d.balancer)
    throw unmappable(
      file,
      at('balancer'),
      "balances with Knative's activator and queue-proxy: remove balancer",
    );
  const r = s.retry;
  if (
    r.maxRetries !== d.retry.maxRetries ||
    r.budgetPercent !== d.retry.budgetPercent ||
    r.minRetryConcurrency !== d.retry.minRetryConcurrency
  )
    throw unmappable(
      file,
      at('retry'),
      'has no retry policy of its own: remove retry (or use --target kubernetes)',
    );
  const o = s.outlierDetection;
  const od = d.outlierDetection;
  if (
    o === undefined ||
    o.consecutive5xx !== od.consecutive5xx ||
    o.consecutiveGatewayErrors !== od.consecutiveGatewayErrors ||
    o.baseEjectionTimeMs !== od.baseEjectionTimeMs ||
    o.maxEjectionTimeMs !== od.maxEjectionTimeMs ||
    o.maxEjectionPercent !== od.maxEjectionPercent
  )
    throw unmappable(
      file,
      at('outlierDetection'),
      'has no outlier ejection (its readiness probes take a replica out): remove outlierDetection (or use --target kubernetes)',
    );
  if (s.timeouts.perTryMs !== d.timeouts.perTryMs)
    throw unmappable(
      file,
      at('timeouts.perTry'),
      'has no per-try timeout (only timeouts.total, as timeoutSeconds): remove it',
    );
}

function configuration(s: PlanService, v: PlanVariant, namespace: string, ctx: PodContext): RenderedObject {
  if (v.runs.kind === 'endpoints') {
    throw unmappable(
      ctx.file,
      `${v.where}.endpoints`,
      'routes to revisions only, not to static endpoints: remove the variant (or use --target kubernetes, whose gateway keeps them)',
    );
  }
  const name = `${s.name}-${v.tag}`;
  checkName(name, `${ctx.file}: ${v.where}.tag (object name ${name})`, TARGET);
  const pod = variantPod(s, v, ctx);
  const objectLabels = { ...(s.sourceLabels ?? {}), ...labels(s.name, name, 'model-server') };
  const scale = v.scale ? knativeAutoscaling(v.scale, ctx.file, v.where) : {};
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Configuration',
    metadata: metadata(name, namespace, objectLabels),
    spec: {
      template: {
        metadata: { labels: objectLabels, annotations: { ...scale, ...pod.annotations } },
        spec: {
          containerConcurrency: v.scale?.containerConcurrency ?? 0,
          timeoutSeconds: requestTimeoutS(s),
          containers: [pod.container],
          ...(pod.volumes.length > 0 ? { volumes: pod.volumes } : {}),
        },
      },
    },
  };
}

function route(s: PlanService, namespace: string): RenderedObject {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Route',
    metadata: metadata(s.name, namespace, { ...(s.sourceLabels ?? {}), ...labels(s.name, s.name, 'route') }),
    spec: {
      traffic: s.variants.map((v) => ({
        configurationName: `${s.name}-${v.tag}`,
        latestRevision: true,
        percent: v.percent,
        tag: v.tag,
      })),
    },
  };
}

/**
 * A `host:` that is not the Route's own host gets a DomainMapping to the Route (Knative's way to
 * serve a service under another name; the cluster must be allowed to claim that domain).
 */
function domainMappings(s: PlanService, namespace: string): RenderedObject[] {
  const own = `${s.name}.${namespace}.${RENDER_DEFAULTS.domain}`;
  return s.hosts
    .filter((h) => h !== own)
    .map((host) => ({
      apiVersion: 'serving.knative.dev/v1beta1',
      kind: 'DomainMapping',
      metadata: metadata(host, namespace, { ...labels(s.name, s.name, 'route') }),
      spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Route', name: s.name } },
    }));
}

/** Renders a plan to Knative Serving objects. */
export function renderKnative(plan: RenderPlan, options: RenderOptions): RenderedObject[] {
  refuseKubernetesOnlyFlags(options, TARGET);
  const ctx: PodContext = { target: TARGET, file: plan.file, options, setsPort: false, knative: true };
  const out: RenderedObject[] = [];
  for (const s of plan.services) {
    const namespace = options.namespace ?? s.namespace ?? RENDER_DEFAULTS.namespace;
    checkName(s.name, `${plan.file}: ${s.where}`, TARGET);
    checkServiceFields(s, plan.file);
    for (const v of s.variants) {
      const tagHost = `${v.tag}-${s.name}`;
      checkName(
        tagHost,
        `${plan.file}: ${v.where}.tag (tag host ${tagHost}.${namespace}.${RENDER_DEFAULTS.domain})`,
        TARGET,
      );
      out.push(configuration(s, v, namespace, ctx));
    }
    out.push(route(s, namespace));
    out.push(...domainMappings(s, namespace));
  }
  return out;
}
