import { RenderError } from './errors.js';

/** Where the model repository in a rendered pod comes from (`--models`). */
export type ModelSource =
  | { readonly kind: 'image' }
  | { readonly kind: 'pvc'; readonly claim: string }
  | { readonly kind: 'uri'; readonly uri: string };

/** How the kubernetes target scales a variant's Deployment (`--autoscaler`). */
export type KubernetesAutoscaler = 'hpa' | 'keda' | 'none';

/** The gateway Service's type on the kubernetes target (`--service-type`). */
export type GatewayServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

/** What `flotilla render` was asked for, besides the input file. */
export interface RenderOptions {
  /** The Flotilla image: runs `model:` and `command:` variants and the gateway. */
  readonly image?: string;
  /** Namespace of every object; a PaddleService's own namespace when not given. */
  readonly namespace?: string;
  readonly models: ModelSource;
  /** Kubernetes target only (default RENDER_DEFAULTS.autoscaler); other targets refuse it. */
  readonly autoscaler?: KubernetesAutoscaler;
  /** Kubernetes target only (default RENDER_DEFAULTS.serviceType). */
  readonly serviceType?: GatewayServiceType;
  /** Prometheus that KEDA queries for the gateway's in-flight requests (`--autoscaler keda`). */
  readonly prometheusUrl?: string;
}

/**
 * Every default of `flotilla render`, in one place (docs/kubernetes.md lists them). Ports stay clear
 * of the ones Knative reserves for its queue-proxy (8012, 8013, 8022, 9090, 9091, 8008).
 */
export const RENDER_DEFAULTS = Object.freeze({
  namespace: 'default',
  /** Knative's default domain: a Route `<name>` in `<ns>` answers `<name>.<ns>.example.com`. */
  domain: 'example.com',
  models: Object.freeze({ kind: 'image' }) as ModelSource,
  autoscaler: 'hpa' as KubernetesAutoscaler,
  /** As the TF Serving walk-through exposes its server: reachable from outside the cluster. */
  serviceType: 'LoadBalancer' as GatewayServiceType,
  prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
  /** Where the model repository is in a pod (a PVC is mounted here; an image bakes it here). */
  modelRepositoryPath: '/models',
  /** The model server's ports in a pod (HTTP is the one Knative routes to). */
  httpPort: 8080,
  grpcPort: 8081,
  /** The gateway's ports, in its pod and on its Service. */
  gatewayHttpPort: 8080,
  gatewayGrpcPort: 8081,
  gatewayReplicas: 2,
  /**
   * Seconds a pod is given beyond the longest request (timeouts.total) to drain and unload its
   * models after SIGTERM, before the kubelet kills it: `flotilla serve` drains without a limit of
   * its own, answering everything it accepted.
   */
  drainMarginS: 10,
  /** The name of the gateway's objects on the kubernetes target. */
  gatewayName: 'flotilla-gateway',
});

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `--models`: `image`, `pvc:CLAIM` or `uri:URI`; throws a RenderError naming the flag. */
export function parseModelSource(text: string): ModelSource {
  if (text === 'image') return { kind: 'image' };
  if (text.startsWith('pvc:')) {
    const claim = text.slice(4);
    if (!DNS_LABEL.test(claim))
      throw new RenderError(
        `--models ${text}: the claim name must be a DNS-1123 label (lower-case letters, digits and '-')`,
      );
    return { kind: 'pvc', claim };
  }
  if (text.startsWith('uri:') && text.length > 4) return { kind: 'uri', uri: text.slice(4) };
  throw new RenderError(`--models ${text}: expected image, pvc:CLAIM or uri:URI`);
}

/** Options for a render, `models` defaulted; the target-specific ones stay as given. */
export function renderOptions(given: Partial<RenderOptions> = {}): RenderOptions {
  return { ...given, models: given.models ?? RENDER_DEFAULTS.models };
}

/**
 * Refuses flags that belong to other targets (`--autoscaler` on knative, say): a flag that would
 * do nothing is an error, not silence.
 */
export function refuseKubernetesOnlyFlags(options: RenderOptions, target: string): void {
  const given = (
    [
      ['--autoscaler', options.autoscaler],
      ['--service-type', options.serviceType],
      ['--prometheus-url', options.prometheusUrl],
    ] as const
  ).find(([, value]) => value !== undefined);
  if (given)
    throw new RenderError(
      `${given[0]} ${given[1]}: a flag of --target kubernetes, not of --target ${target}`,
    );
}
