import { stringify } from 'yaml';
import type { RenderedObject } from './object.js';

/**
 * Deterministic YAML: object keys sorted (recursively; arrays keep their order, which means
 * something), no line folding, no anchors. The same objects give byte-identical text.
 */

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `value` with every object's keys in code-point order and undefined members left out. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (value[key] !== undefined) out[key] = sortKeys(value[key]);
  }
  return out;
}

/** One YAML document (ends with a newline). */
export function toYaml(value: unknown): string {
  return stringify(sortKeys(value), { lineWidth: 0, aliasDuplicateObjects: false });
}

/** A multi-document stream for `kubectl apply -f -`. */
export function toYamlStream(objects: readonly RenderedObject[]): string {
  return objects.map((o) => `---\n${toYaml(o)}`).join('');
}

/** The annotation of an object applied in a later step (KServe's canary): `2`, `3`, … (kserve.ts). */
export const APPLY_STEP_ANNOTATION = 'flotilla.dev/apply-step';

/** The apply step of an object: 1 unless annotated. */
export const applyStep = (o: RenderedObject): number =>
  Number(o.metadata.annotations?.[APPLY_STEP_ANNOTATION] ?? 1);

/**
 * The file name of one object in `--out DIR`: `<kind>-<name>.yaml`, lower case; an object of a
 * later apply step is `step<N>-<kind>-<name>.yaml`, left out of kustomization.yaml.
 */
export function objectFileName(o: RenderedObject): string {
  const step = applyStep(o);
  return `${step > 1 ? `step${step}-` : ''}${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
}

/** `kustomization.yaml` listing the files, in the order they were rendered. */
export function kustomization(files: readonly string[]): string {
  return toYaml({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: files,
  });
}
