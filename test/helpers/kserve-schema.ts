import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ROOT } from './paths.js';

/** The KServe kinds whose CRD schemas are kept in test/fixtures/kserve (source and licence in each). */
const SCHEMAS = {
  InferenceService: 'inferenceservices.v1beta1.schema.json',
  ClusterServingRuntime: 'clusterservingruntimes.v1alpha1.schema.json',
} as const;

export type KServeKind = keyof typeof SCHEMAS;

type Schema = Record<string, unknown>;

/**
 * `kubectl apply` validates strictly (server-side field validation, the default since Kubernetes
 * 1.27): a field the CRD's schema does not declare is an error, not silently pruned. JSON Schema
 * allows unknown properties unless told, so every object schema that lists its properties and does
 * not keep unknown fields (`x-kubernetes-preserve-unknown-fields`) is closed here.
 */
function closeObjects(schema: Schema): Schema {
  const out: Schema = { ...schema };
  const sub = (v: unknown): unknown => (v !== null && typeof v === 'object' ? closeObjects(v as Schema) : v);
  if (schema['properties'] !== undefined) {
    const props = schema['properties'] as Record<string, Schema>;
    out['properties'] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, closeObjects(v)]));
    if (
      schema['additionalProperties'] === undefined &&
      schema['x-kubernetes-preserve-unknown-fields'] !== true
    ) {
      out['additionalProperties'] = false;
    }
  }
  if (schema['items'] !== undefined) out['items'] = sub(schema['items']);
  if (typeof schema['additionalProperties'] === 'object')
    out['additionalProperties'] = sub(schema['additionalProperties']);
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[k])) out[k] = (schema[k] as Schema[]).map(closeObjects);
  }
  return out;
}

let ajv: Ajv | undefined;
const validators = new Map<KServeKind, ValidateFunction>();

/** The validator of a KServe kind, compiled once. */
function validatorOf(kind: KServeKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    ajv ??= new Ajv({ allErrors: true, strict: false, validateFormats: false });
    const schema = JSON.parse(readFileSync(`${ROOT}test/fixtures/kserve/${SCHEMAS[kind]}`, 'utf8')) as Schema;
    v = ajv.compile(closeObjects(schema));
    validators.set(kind, v);
  }
  return v;
}

/** The problems of one object against its kind's CRD schema, as `path: message` lines (none: valid). */
export function kserveProblems(object: { readonly kind?: unknown }): string[] {
  const kind = object.kind;
  if (kind !== 'InferenceService' && kind !== 'ClusterServingRuntime')
    return [`kind: ${String(kind)} is not a KServe kind kept here`];
  const validate = validatorOf(kind);
  if (validate(object)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params['additionalProperty'])})` : '';
    return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
  });
}
