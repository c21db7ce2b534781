import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  Configuration,
  Service as KnativeService,
  Route,
} from '@kubernetes-models/knative/serving.knative.dev/v1';
import { DomainMapping } from '@kubernetes-models/knative/serving.knative.dev/v1beta1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';

/**
 * Validates rendered objects against the official schemas: Kubernetes kinds with kubernetes-models'
 * generated validators, Knative Serving with @kubernetes-models/knative, KEDA with
 * @kubernetes-models/keda (ajv, compiled from the upstream OpenAPI schemas and CRDs).
 */

interface Validatable {
  validate(): void;
}
type Model = new (data: never) => Validatable;

const MODELS: Readonly<Record<string, Model>> = {
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'apps/v1/Deployment': Deployment as unknown as Model,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as Model,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Model,
  'serving.knative.dev/v1/Configuration': Configuration as unknown as Model,
  'serving.knative.dev/v1/Route': Route as unknown as Model,
  'serving.knative.dev/v1/Service': KnativeService as unknown as Model,
  'serving.knative.dev/v1beta1/DomainMapping': DomainMapping as unknown as Model,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject as unknown as Model,
};

/** The kinds a schema is known for. */
export const VALIDATED_KINDS: readonly string[] = Object.keys(MODELS);

/**
 * Throws the validator's error (it names the path, e.g. `data/spec/traffic/0/percent must be
 * integer`) or an error for a kind without a schema here; returns quietly for a valid object.
 */
export function validateObject(o: { readonly apiVersion?: unknown; readonly kind?: unknown }): void {
  const key = `${String(o.apiVersion)}/${String(o.kind)}`;
  const model = MODELS[key];
  if (!model) throw new Error(`no schema for ${key}`);
  const { apiVersion: _a, kind: _k, ...data } = o as Record<string, unknown>;
  new model(data as never).validate();
}
