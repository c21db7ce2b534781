import { RenderError } from './errors.js';
import type { RenderedObject } from './object.js';

/**
 * Names of rendered objects are RFC 1035 labels, the strictest rule among the kinds written: a
 * Kubernetes Service (and so a Knative Route, a headless Service) must start with a letter; every
 * other kind takes a DNS-1123 label, which this satisfies too.
 */
const LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** True when `name` can name any object render writes. */
export const isObjectName = (name: string): boolean => LABEL.test(name);

/**
 * Throws a RenderError unless `name` is a valid object name. `what` says where it came from
 * (`services.my_model`), `target` which target needs it.
 */
export function checkName(name: string, what: string, target: string): void {
  if (isObjectName(name)) return;
  throw new RenderError(
    `${what}: "${name}" is not a valid Kubernetes name for --target ${target} (a DNS-1123 label: lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters); rename it`,
  );
}

/** What each rendered object is, for `app.kubernetes.io/component`. */
export type Component = 'model-server' | 'route' | 'gateway';

/**
 * The `app.kubernetes.io` labels every object carries: `name` is the Flotilla service (or the
 * gateway), `instance` the variant's objects (`<service>-<tag>`), `component` what it is, and
 * `managed-by` flotilla. Selectors use name and instance.
 */
export function labels(name: string, instance: string, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'flotilla',
  };
}

/** The labels a variant's pods are selected by. */
export function selector(name: string, instance: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': instance };
}

/** An object's metadata. */
export function metadata(
  name: string,
  namespace: string,
  objectLabels: Record<string, string>,
  annotations?: Record<string, string>,
): RenderedObject['metadata'] {
  return {
    name,
    namespace,
    labels: objectLabels,
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}
