import { type Address, formatAddress } from '../spec/index.js';
import { RenderError } from './errors.js';
import { RENDER_DEFAULTS } from './options.js';
import type { PlanService, PlanVariant, RenderPlan } from './plan.js';

/**
 * The service file the gateway reads on the kubernetes target: the input's services with each
 * variant's replicas found by DNS (`dns://<service>-<tag>.<namespace>.svc.cluster.local:PORT`, the
 * variant's headless Service), so `kubectl scale` adds or removes replicas the gateway follows by
 * itself. Static endpoints stay as they are. `rollout` is left out: nothing on the cluster judges
 * the canary against the slo (docs/kubernetes.md), so the weights stay the ones written.
 */

const ms = (x: number): string => `${x}ms`;
const list = (a: readonly Address[]): string => `list://${a.map(formatAddress).join(', ')}`;

/** The fully-qualified DNS name of a variant's headless Service. */
export function variantHost(service: string, tag: string, namespace: string): string {
  return `${service}-${tag}.${namespace}.svc.cluster.local`;
}

function variantEntry(
  s: PlanService,
  v: PlanVariant,
  namespace: string,
  file: string,
): Record<string, unknown> {
  const d = RENDER_DEFAULTS;
  const base: Record<string, unknown> = { tag: v.tag, weight: v.weight };
  if (v.modelName !== s.name) base['modelName'] = v.modelName;
  if (v.modelVersion !== undefined) base['modelVersion'] = Number(v.modelVersion);
  const runs = v.runs;
  if (runs.kind === 'endpoints') {
    if (runs.tls?.caFile !== undefined || runs.tls?.certFile !== undefined) {
      throw new RenderError(
        `${file}: ${v.where}.tls: --target kubernetes cannot carry files of this machine into the gateway's pod: mount them from a Secret and edit the ConfigMap, or leave tls out`,
      );
    }
    return {
      ...base,
      endpoints: list(runs.endpoints),
      ...(runs.grpcEndpoints ? { grpcEndpoints: list(runs.grpcEndpoints) } : {}),
      ...(runs.tls
        ? {
            tls: {
              insecureSkipVerify: runs.tls.insecureSkipVerify,
              ...(runs.tls.serverName !== undefined ? { serverName: runs.tls.serverName } : {}),
            },
          }
        : {}),
    };
  }
  const host = variantHost(s.name, v.tag, namespace);
  const httpPort = runs.kind === 'container' ? (runs.port ?? d.httpPort) : d.httpPort;
  return {
    ...base,
    endpoints: `dns://${host}:${httpPort}`,
    ...(runs.kind === 'model' ? { grpcEndpoints: `dns://${host}:${d.grpcPort}` } : {}),
  };
}

function serviceEntry(s: PlanService, namespace: string, file: string): Record<string, unknown> {
  // A PaddleService container's health path is unknown: its pods' TCP readiness decides whether
  // DNS lists them, and the gateway checks nothing more.
  const unknownHealth = s.variants.some((v) => v.runs.kind === 'container');
  const hc = s.healthCheck;
  const od = s.outlierDetection;
  const hosts = s.knativeHost ? [`${s.name}.${namespace}.${RENDER_DEFAULTS.domain}`, ...s.hosts] : s.hosts;
  return {
    ...(hosts.length > 0 ? { host: [...hosts] } : {}),
    ...(s.path !== undefined ? { path: s.path } : {}),
    ...(s.slo ? { slo: { ...s.slo } } : {}),
    ...(s.mirror ? { mirror: { ...s.mirror } } : {}),
    balancer: s.balancer,
    healthCheck:
      hc && !unknownHealth
        ? {
            path: hc.path,
            interval: ms(hc.intervalMs),
            timeout: ms(hc.timeoutMs),
            healthyThreshold: hc.healthyThreshold,
            unhealthyThreshold: hc.unhealthyThreshold,
          }
        : false,
    outlierDetection: od
      ? {
          consecutive5xx: od.consecutive5xx,
          consecutiveGatewayErrors: od.consecutiveGatewayErrors,
          baseEjectionTime: ms(od.baseEjectionTimeMs),
          maxEjectionTime: ms(od.maxEjectionTimeMs),
          maxEjectionPercent: od.maxEjectionPercent,
        }
      : false,
    retry: { ...s.retry },
    timeouts: { perTry: ms(s.timeouts.perTryMs), total: ms(s.timeouts.totalMs) },
    variants: s.variants.map((v) => variantEntry(s, v, namespace, file)),
  };
}

/** The gateway's service file (as data) for a plan; `namespaceOf` gives each service's namespace. */
export function gatewayServiceFile(
  plan: RenderPlan,
  namespaceOf: (s: PlanService) => string,
): Record<string, unknown> {
  return {
    services: Object.fromEntries(
      plan.services.map((s) => [s.name, serviceEntry(s, namespaceOf(s), plan.file)]),
    ),
  };
}
