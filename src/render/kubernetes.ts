import { createHash } from 'node:crypto';
import { DRAIN_LIMIT_S } from '../server/drain.js';
import { SERVICE_FILE_DEFAULTS } from '../spec/index.js';
import { RenderError } from './errors.js';
import { gatewayServiceFile } from './gateway-file.js';
import { checkName, labels, metadata, selector } from './names.js';
import type { RenderedObject } from './object.js';
import { type KubernetesAutoscaler, RENDER_DEFAULTS, type RenderOptions } from './options.js';
import type { PlanScale, PlanService, PlanVariant, RenderPlan } from './plan.js';
import { type PodContext, requestTimeoutS, variantPod } from './pod.js';
import { toYaml } from './yaml.js';

/**
 * The kubernetes target, for clusters without Knative or Istio: per variant a `Deployment` and a
 * headless `Service` (`<service>-<tag>`: its DNS name lists the ready pods), a
 * `PodDisruptionBudget`, and an `autoscaling/v2` `HorizontalPodAutoscaler` (or a KEDA
 * `ScaledObject`, or nothing with `--autoscaler none`); then the Flotilla gateway as its own
 * `Deployment` and `Service` with a `ConfigMap` holding its service file, whose variants find their
 * replicas by DNS. `kubectl scale deployment/<service>-<tag> --replicas 2` adds a pod the gateway
 * finds by itself. Deployments under an autoscaler carry no `replicas`: an apply then never undoes
 * what the autoscaler (or a manual scale) decided.
 */

const TARGET = 'kubernetes';
const GATEWAY_CONFIG_PATH = '/etc/flotilla';
const GATEWAY_CONFIG_KEY = 'services.yaml';
/** The gateway's metric of requests in flight per variant, what KPA's concurrency is here. */
const IN_FLIGHT_METRIC = 'flotilla_gateway_variant_in_flight';

/** A Kubernetes quantity in canonical form: whole numbers as they are, fractions in milli-units. */
function quantity(x: number): string {
  return Number.isInteger(x) ? String(x) : `${Math.round(x * 1000)}m`;
}

function where(v: PlanVariant, field: string): string {
  return `${v.where}.scale.${field}`;
}

/** HPA's scaling behaviour from KPA's rates and stable window (what it has of them). */
function behavior(scale: PlanScale) {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      // KPA decides every 2 s and may multiply the replicas by maxScaleUpRate each time.
      policies: [{ type: 'Percent', value: Math.round((scale.maxScaleUpRate - 1) * 100), periodSeconds: 2 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: Math.round(scale.stableWindowMs / 1000),
      policies: [
        { type: 'Percent', value: Math.round((1 - 1 / scale.maxScaleDownRate) * 100), periodSeconds: 2 },
      ],
    },
  };
}

/** KPA's panic mode has no HPA or KEDA equivalent: refused unless left at its default. */
function checkNoPanic(file: string, v: PlanVariant, scale: PlanScale, autoscaler: string): void {
  const d = SERVICE_FILE_DEFAULTS.scale;
  for (const field of ['panicWindowPercent', 'panicThresholdPercent'] as const) {
    if (scale[field] !== d[field])
      throw new RenderError(
        `${file}: ${where(v, field)}: --target ${TARGET} --autoscaler ${autoscaler} has no panic mode (Knative's KPA only): remove it`,
      );
  }
  if (scale.autoscalerClass === 'kpa' && scale.metric === 'rps')
    throw new RenderError(
      `${file}: ${where(v, 'metric')}: --target ${TARGET} scales on the gateway's requests in flight (concurrency) or cpu, not rps`,
    );
}

/** The in-flight target per replica KPA aims at: target × utilization. */
const inFlightTarget = (scale: PlanScale): number => scale.target * scale.targetUtilization;

function hpa(
  s: PlanService,
  v: PlanVariant,
  scale: PlanScale,
  name: string,
  ns: string,
  file: string,
): RenderedObject {
  checkNoPanic(file, v, scale, 'hpa');
  const metric =
    scale.metric === 'cpu'
      ? {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: Math.round(scale.target) },
          },
        }
      : {
          type: 'External',
          external: {
            metric: {
              name: IN_FLIGHT_METRIC,
              selector: { matchLabels: { service: s.name, variant: v.tag } },
            },
            target: { type: 'AverageValue', averageValue: quantity(inFlightTarget(scale)) },
          },
        };
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(name, ns, labels(s.name, name, 'model-server')),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      // An HPA cannot scale to zero: min 0 becomes 1 (--autoscaler keda scales to zero).
      minReplicas: Math.max(1, scale.min),
      maxReplicas: scale.max,
      metrics: [metric],
      behavior: behavior(scale),
    },
  };
}

function scaledObject(
  s: PlanService,
  v: PlanVariant,
  scale: PlanScale,
  name: string,
  ns: string,
  file: string,
  prometheusUrl: string,
): RenderedObject {
  checkNoPanic(file, v, scale, 'keda');
  if (scale.metric === 'cpu')
    throw new RenderError(
      `${file}: ${where(v, 'metric')}: --target ${TARGET} --autoscaler keda scales on the gateway's requests in flight, not cpu: use --autoscaler hpa`,
    );
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: metadata(name, ns, labels(s.name, name, 'model-server')),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicaCount: scale.min,
      maxReplicaCount: scale.max,
      pollingInterval: 5,
      ...(scale.scaleToZeroAfterMs !== undefined
        ? { cooldownPeriod: Math.max(1, Math.ceil(scale.scaleToZeroAfterMs / 1000)) }
        : {}),
      advanced: { horizontalPodAutoscalerConfig: { behavior: behavior(scale) } },
      triggers: [
        {
          type: 'prometheus',
          metricType: 'AverageValue',
          metadata: {
            serverAddress: prometheusUrl,
            query: `sum(${IN_FLIGHT_METRIC}{service="${s.name}",variant="${v.tag}"})`,
            threshold: String(Number(inFlightTarget(scale).toFixed(3))),
            // Any request waiting at the gateway wakes a variant scaled to zero.
            activationThreshold: '0',
          },
        },
      ],
    },
  };
}

/** Pods a Deployment starts with when nothing scales it: the initial scale, else min (at least 1). */
const staticReplicas = (scale: PlanScale | undefined): number =>
  scale?.initial ?? Math.max(1, scale?.min ?? 1);

function variantObjects(
  s: PlanService,
  v: PlanVariant,
  ns: string,
  ctx: PodContext,
  autoscaler: KubernetesAutoscaler,
  prometheusUrl: string,
): RenderedObject[] {
  const name = `${s.name}-${v.tag}`;
  checkName(name, `${ctx.file}: ${v.where}.tag (object name ${name})`, TARGET);
  const pod = variantPod(s, v, ctx);
  const objectLabels = { ...(s.sourceLabels ?? {}), ...labels(s.name, name, 'model-server') };
  const match = selector(s.name, name);
  const deployment: RenderedObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name, ns, objectLabels),
    spec: {
      ...(autoscaler === 'none' ? { replicas: staticReplicas(v.scale) } : {}),
      selector: { matchLabels: match },
      // A new pod is ready before an old one goes: capacity never drops during a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: objectLabels,
          ...(Object.keys(pod.annotations).length > 0 ? { annotations: pod.annotations } : {}),
        },
        spec: {
          // Longer than the longest request, so a draining server answers what it accepted, and
          // than serve's own drain limit, so it exits with its own line before any SIGKILL.
          terminationGracePeriodSeconds:
            Math.max(requestTimeoutS(s), DRAIN_LIMIT_S) + RENDER_DEFAULTS.drainMarginS,
          containers: [pod.container],
          ...(pod.volumes.length > 0 ? { volumes: pod.volumes } : {}),
        },
      },
    },
  };
  const service: RenderedObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(name, ns, objectLabels),
    spec: {
      // Headless: the name resolves to every ready pod's address, which the gateway balances over.
      clusterIP: 'None',
      selector: match,
      ports: [
        { name: 'http', port: pod.httpPort, targetPort: 'http', protocol: 'TCP' },
        ...(pod.grpcPort !== undefined
          ? [{ name: 'grpc', port: pod.grpcPort, targetPort: 'grpc', protocol: 'TCP' }]
          : []),
      ],
    },
  };
  const pdb: RenderedObject = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(name, ns, objectLabels),
    // One pod at a time: a node drain never empties a variant at once, and never blocks on one pod.
    spec: { maxUnavailable: 1, selector: { matchLabels: match } },
  };
  const out = [deployment, service, pdb];
  if (v.scale && autoscaler === 'hpa') out.push(hpa(s, v, v.scale, name, ns, ctx.file));
  if (v.scale && autoscaler === 'keda')
    out.push(scaledObject(s, v, v.scale, name, ns, ctx.file, prometheusUrl));
  return out;
}

function gatewayObjects(
  plan: RenderPlan,
  ns: string,
  options: RenderOptions,
  namespaceOf: (s: PlanService) => string,
): RenderedObject[] {
  const d = RENDER_DEFAULTS;
  const name = d.gatewayName;
  const image = options.image;
  if (image === undefined)
    throw new RenderError(
      `--image: --target ${TARGET} runs the Flotilla gateway in the Flotilla image: give --image IMAGE`,
    );
  const objectLabels = labels(name, name, 'gateway');
  const match = selector(name, name);
  const config = toYaml(gatewayServiceFile(plan, namespaceOf));
  const longest = Math.max(...plan.services.map(requestTimeoutS));
  const configMap: RenderedObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(name, ns, objectLabels),
    data: { [GATEWAY_CONFIG_KEY]: config },
  };
  const deployment: RenderedObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name, ns, objectLabels),
    spec: {
      replicas: d.gatewayReplicas,
      selector: { matchLabels: match },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: objectLabels,
          annotations: {
            // A changed service file changes the pod template, so an apply rolls the gateway.
            'flotilla.dev/config-sha256': createHash('sha256').update(config).digest('hex'),
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(d.gatewayHttpPort),
            'prometheus.io/path': '/_flotilla/metrics',
          },
        },
        spec: {
          terminationGracePeriodSeconds: longest + d.drainMarginS,
          containers: [
            {
              name: 'gateway',
              image,
              args: [
                'gateway',
                '--config',
                `${GATEWAY_CONFIG_PATH}/${GATEWAY_CONFIG_KEY}`,
                '--host',
                '0.0.0.0',
                '--port',
                String(d.gatewayHttpPort),
                '--grpc-port',
                String(d.gatewayGrpcPort),
              ],
              ports: [
                { containerPort: d.gatewayHttpPort, name: 'http', protocol: 'TCP' },
                { containerPort: d.gatewayGrpcPort, name: 'grpc', protocol: 'TCP' },
              ],
              readinessProbe: { httpGet: { path: '/_flotilla/metrics', port: 'http' }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
              volumeMounts: [{ name: 'config', mountPath: GATEWAY_CONFIG_PATH, readOnly: true }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name } }],
        },
      },
    },
  };
  const service: RenderedObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(name, ns, objectLabels),
    spec: {
      type: options.serviceType ?? d.serviceType,
      selector: match,
      ports: [
        { name: 'http', port: d.gatewayHttpPort, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: d.gatewayGrpcPort, targetPort: 'grpc', protocol: 'TCP' },
      ],
    },
  };
  const pdb: RenderedObject = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(name, ns, objectLabels),
    spec: { maxUnavailable: 1, selector: { matchLabels: match } },
  };
  return [configMap, deployment, service, pdb];
}

/** Renders a plan to plain Kubernetes objects and the Flotilla gateway. */
export function renderKubernetes(plan: RenderPlan, options: RenderOptions): RenderedObject[] {
  const autoscaler = options.autoscaler ?? RENDER_DEFAULTS.autoscaler;
  if (autoscaler !== 'keda' && options.prometheusUrl !== undefined)
    throw new RenderError(`--prometheus-url: only --autoscaler keda queries Prometheus`);
  const prometheusUrl = options.prometheusUrl ?? RENDER_DEFAULTS.prometheusUrl;
  const ctx: PodContext = { target: TARGET, file: plan.file, options, setsPort: true, knative: false };
  const namespaceOf = (s: PlanService) => options.namespace ?? s.namespace ?? RENDER_DEFAULTS.namespace;
  const out: RenderedObject[] = [];
  for (const s of plan.services) {
    checkName(s.name, `${plan.file}: ${s.where}`, TARGET);
    for (const v of s.variants) {
      if (v.runs.kind === 'endpoints') continue; // the gateway reaches them as they are
      out.push(...variantObjects(s, v, namespaceOf(s), ctx, autoscaler, prometheusUrl));
    }
  }
  const first = plan.services[0];
  const gatewayNs = options.namespace ?? (first ? namespaceOf(first) : RENDER_DEFAULTS.namespace);
  out.push(...gatewayObjects(plan, gatewayNs, options, namespaceOf));
  return out;
}
