import { SERVICE_FILE_DEFAULTS } from '../spec/index.js';
import { RenderError } from './errors.js';
import { knativeAutoscaling } from './knative.js';
import { checkName, labels } from './names.js';
import type { RenderedObject } from './object.js';
import { RENDER_DEFAULTS, type RenderOptions, refuseKubernetesOnlyFlags } from './options.js';
import type { PlanService, PlanVariant, RenderPlan } from './plan.js';
import { type PodContext, requestTimeoutS, variantPod } from './pod.js';
import { modelServerPorts } from './ports.js';
import { APPLY_STEP_ANNOTATION } from './yaml.js';

/**
 * The kserve target: a `ClusterServingRuntime` named `flotilla` (ONNX, Open Inference Protocol v2
 * over REST and gRPC, `flotilla serve --model-dir /mnt/models --model-name {{.Name}}` on one h2c
 * port) and per service an `InferenceService` using it, its model fetched by KServe's storage
 * initializer from `storageUri`.
 *
 * KServe splits traffic between the last ready revision and the newest one, so a stable + canary
 * pair is applied in steps, each an InferenceService of the same name annotated with its step
 * (`flotilla.dev/apply-step`): step 1 is the stable variant alone, step 2 the canary at its weight
 * (`canaryTrafficPercent`), and a `rollout:` adds one step per further percentage, the last (100)
 * promoting the canary. Apply them in order, each once the previous one is Ready.
 */

const TARGET = 'kserve';
const K = 'serving.kserve.io';
/** The runtime every InferenceService names; cluster-wide, so rendered once. */
export const KSERVE_RUNTIME = 'flotilla';
/** Where KServe's storage initializer puts a model. */
export const KSERVE_MODEL_DIR = '/mnt/models';
/** The annotation that orders the steps of a canary rollout (1, 2, …). */
export const APPLY_STEP = APPLY_STEP_ANNOTATION;
/** Knative annotations KServe sets from the predictor's own fields (not repeated). */
const FROM_FIELDS = new Set(
  ['min-scale', 'max-scale', 'target', 'metric'].map((k) => `autoscaling.knative.dev/${k}`),
);

function unmappable(file: string, where: string, message: string): RenderError {
  return new RenderError(`${file}: ${where}: --target ${TARGET} ${message}`);
}

/** The gateway's own fields: KServe serverless routes with Knative, which has none of them. */
function checkServiceFields(s: PlanService, file: string): void {
  const at = (field: string) => `${s.where}.${field}`;
  const d = SERVICE_FILE_DEFAULTS;
  if (s.mirror)
    throw unmappable(
      file,
      at('mirror'),
      'has no traffic mirroring: remove mirror (or use --target kubernetes)',
    );
  if (s.variants.length > 2)
    throw unmappable(
      file,
      at('variants'),
      `splits a service between two revisions only (stable and canary; this service has ${s.variants.length}): use --target knative`,
    );
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
    throw unmappable(file, at('retry'), 'has no retry policy: remove retry (or use --target kubernetes)');
  if (s.timeouts.perTryMs !== d.timeouts.perTryMs)
    throw unmappable(
      file,
      at('timeouts.perTry'),
      'has no per-try timeout (only timeouts.total, as timeout): remove it',
    );
  if (s.hosts.length > 0)
    throw unmappable(
      file,
      at('host'),
      'names hosts by its ingress domain template (<name>-<namespace>.<domain> by default): remove host (or use --target knative)',
    );
}

/** The storage URI of a model folder: `--models uri:URI` or `pvc:CLAIM` as the repository root. */
function repositoryUri(options: RenderOptions, file: string, where: string): string {
  const m = options.models;
  if (m.kind === 'uri') return m.uri.replace(/\/+$/, '');
  if (m.kind === 'pvc') return `pvc://${m.claim}`;
  throw unmappable(
    file,
    where,
    "loads models with KServe's storage initializer: give --models uri:URI or --models pvc:CLAIM (the repository root), not --models image",
  );
}

/** The Flotilla image, or a RenderError naming the field and the target. */
function image(options: RenderOptions, what: string): string {
  if (options.image !== undefined) return options.image;
  throw new RenderError(`${what}: --target ${TARGET} runs the Flotilla image: give --image IMAGE`);
}

const probes = (port: number) => ({
  readinessProbe: { httpGet: { path: '/v2/health/ready', port }, periodSeconds: 5 },
  livenessProbe: { httpGet: { path: '/v2/health/live', port }, periodSeconds: 10 },
});

/** The cluster-wide runtime: the Flotilla image serving one model from /mnt/models on one port. */
export function flotillaServingRuntime(flotillaImage: string): RenderedObject {
  const ports = modelServerPorts(true);
  return {
    apiVersion: `${K}/v1alpha1`,
    kind: 'ClusterServingRuntime',
    metadata: { name: KSERVE_RUNTIME, labels: labels(KSERVE_RUNTIME, KSERVE_RUNTIME, 'model-server') },
    spec: {
      annotations: {
        'prometheus.kserve.io/port': String(ports.httpPort),
        'prometheus.kserve.io/path': '/metrics',
      },
      supportedModelFormats: [{ name: 'onnx', version: '1', autoSelect: true, priority: 1 }],
      protocolVersions: ['v2', 'grpc-v2'],
      containers: [
        {
          name: 'kserve-container',
          image: flotillaImage,
          // KServe puts the InferenceService's name for {{.Name}}, and appends the predictor's
          // `args`: a later --model-name or --models wins (see modelArgs).
          args: [
            'serve',
            '--model-dir',
            KSERVE_MODEL_DIR,
            '--model-name',
            '{{.Name}}',
            ...ports.args,
            '--poll-interval',
            '0',
          ],
          ports: ports.ports,
          ...probes(ports.httpPort),
          securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
        },
      ],
    },
  };
}

/** Appended to the runtime's args: the model's own name when it is not the service's, and its pinned version. */
function modelArgs(s: PlanService, name: string, version: number | undefined): string[] {
  const rename = name !== s.name ? ['--model-name', name] : [];
  return [...rename, ...(version !== undefined ? ['--models', `${name}:${version}`] : [])];
}

/** The predictor of one variant (scale, resources, what runs), without the canary percent. */
function predictor(s: PlanService, v: PlanVariant, ctx: PodContext): Record<string, unknown> {
  const { file, options } = ctx;
  const scale = v.scale;
  const fields: Record<string, unknown> = { timeout: requestTimeoutS(s) };
  if (scale) {
    if (!Number.isInteger(scale.target))
      throw unmappable(
        file,
        `${v.where}.scale.targetConcurrency`,
        `takes a whole scaleTarget (got ${scale.target})`,
      );
    Object.assign(fields, {
      minReplicas: scale.min,
      maxReplicas: scale.max,
      scaleMetric: scale.metric,
      scaleTarget: scale.target,
      ...(scale.containerConcurrency > 0 ? { containerConcurrency: scale.containerConcurrency } : {}),
    });
  }
  const runs = v.runs;
  if (runs.kind === 'endpoints')
    throw unmappable(
      file,
      `${v.where}.endpoints`,
      'runs pods only, not static endpoints: remove the variant (or use --target kubernetes)',
    );
  if (runs.kind === 'model' && runs.with.length === 0) {
    const storageUri = `${repositoryUri(options, file, `${v.where}.model`)}/${runs.name}`;
    image(options, `${file}: ${v.where}.model`);
    const args = modelArgs(s, runs.name, runs.version);
    const resources = podResources(v);
    return {
      ...fields,
      model: {
        modelFormat: { name: 'onnx' },
        runtime: KSERVE_RUNTIME,
        protocolVersion: 'v2',
        storageUri,
        ...(args.length > 0 ? { args } : {}),
        ...(resources ? { resources } : {}),
      },
    };
  }
  // A pipeline (model.with), a command or a PaddleService container: a custom predictor container.
  return { ...fields, containers: [customContainer(s, v, ctx)] };
}

function podResources(v: PlanVariant): Record<string, unknown> | undefined {
  if (!v.resources) return undefined;
  const q = (r: Readonly<Record<string, string | number>> | undefined) =>
    r === undefined ? undefined : Object.fromEntries(Object.entries(r).map(([k, x]) => [k, String(x)]));
  return {
    ...(v.resources.requests ? { requests: q(v.resources.requests) } : {}),
    ...(v.resources.limits ? { limits: q(v.resources.limits) } : {}),
  };
}

/**
 * A custom predictor container. A pipeline runs `flotilla serve` on the whole repository (its
 * models load together), fetched by the storage initializer: KServe gives a custom container
 * one when its env names STORAGE_URI. Commands and PaddleService containers run as on Knative.
 */
function customContainer(s: PlanService, v: PlanVariant, ctx: PodContext): Record<string, unknown> {
  const runs = v.runs;
  if (runs.kind === 'model') {
    const ports = modelServerPorts(true);
    const uri = repositoryUri(ctx.options, ctx.file, `${v.where}.model.with`);
    const main = runs.version !== undefined ? `${runs.name}:${runs.version}` : runs.name;
    const resources = podResources(v);
    return {
      name: 'kserve-container',
      image: image(ctx.options, `${ctx.file}: ${v.where}.model`),
      args: [
        'serve',
        '--model-repository',
        KSERVE_MODEL_DIR,
        '--models',
        [main, ...runs.with].join(','),
        ...ports.args,
        '--poll-interval',
        '0',
      ],
      env: [{ name: 'STORAGE_URI', value: uri }],
      ports: ports.ports,
      ...probes(ports.httpPort),
      ...(resources ? { resources } : {}),
    };
  }
  const storageUri = runs.kind === 'container' ? runs.storageUri : undefined;
  let plain = v;
  if (runs.kind === 'container' && storageUri !== undefined) {
    // KServe has the storage initializer Knative lacks: the URI goes to it, not refused.
    const { storageUri: _given, ...rest } = runs;
    plain = { ...v, runs: rest };
  }
  const pod = variantPod(s, plain, ctx);
  if ((s.volumes ?? []).length > 0)
    throw unmappable(
      ctx.file,
      `${s.where}.volumes`,
      'takes no pod volumes on a predictor container: use a storageUri',
    );
  const env = [
    ...((pod.container['env'] as unknown[] | undefined) ?? []),
    ...(storageUri ? [{ name: 'STORAGE_URI', value: storageUri }] : []),
  ];
  return { ...pod.container, name: 'kserve-container', ...(env.length > 0 ? { env } : {}) };
}

/** One step of a service: its InferenceService as applied at that step. */
function inferenceService(
  s: PlanService,
  namespace: string,
  step: number,
  spec: Record<string, unknown>,
  annotations: Record<string, string>,
): RenderedObject {
  return {
    apiVersion: `${K}/v1beta1`,
    kind: 'InferenceService',
    metadata: {
      name: s.name,
      namespace,
      labels: { ...(s.sourceLabels ?? {}), ...labels(s.name, s.name, 'model-server') },
      annotations: { ...annotations, [APPLY_STEP]: String(step) },
    },
    spec,
  };
}

/** The Knative annotations of a variant KServe passes on to its revisions (those it has no field for). */
function revisionAnnotations(v: PlanVariant, file: string): Record<string, string> {
  if (!v.scale) return {};
  const all = knativeAutoscaling(v.scale, file, v.where);
  return Object.fromEntries(Object.entries(all).filter(([k]) => !FROM_FIELDS.has(k)));
}

/** The steps of one service: stable alone, then the canary at each percentage. */
function serviceSteps(s: PlanService, namespace: string, ctx: PodContext): RenderedObject[] {
  const [stable, canary] = s.variants;
  if (!stable) throw unmappable(ctx.file, `${s.where}.variants`, 'needs a variant');
  const first = inferenceService(
    s,
    namespace,
    1,
    { predictor: predictor(s, stable, ctx) },
    revisionAnnotations(stable, ctx.file),
  );
  if (!canary) return [first];
  const percents = s.rollout ? s.rollout.steps : [canary.percent];
  const canaryPredictor = predictor(s, canary, ctx);
  const annotations = revisionAnnotations(canary, ctx.file);
  return [
    first,
    ...percents.map((p, i) => {
      // 100 promotes: without canaryTrafficPercent the newest ready revision takes all traffic.
      const pct = Math.round(p);
      const spec = {
        predictor: pct >= 100 ? canaryPredictor : { ...canaryPredictor, canaryTrafficPercent: pct },
      };
      return inferenceService(s, namespace, i + 2, spec, annotations);
    }),
  ];
}

/** Renders a plan to KServe objects: the runtime, then each service's InferenceService steps. */
export function renderKServe(plan: RenderPlan, options: RenderOptions): RenderedObject[] {
  refuseKubernetesOnlyFlags(options, TARGET);
  const ctx: PodContext = { target: TARGET, file: plan.file, options, setsPort: false, knative: true };
  const out: RenderedObject[] = [];
  let needsRuntime = false;
  for (const s of plan.services) {
    const namespace = options.namespace ?? s.namespace ?? RENDER_DEFAULTS.namespace;
    checkName(s.name, `${plan.file}: ${s.where}`, TARGET);
    checkServiceFields(s, plan.file);
    const steps = serviceSteps(s, namespace, ctx);
    needsRuntime ||= steps.some((o) => JSON.stringify(o.spec).includes(`"runtime":"${KSERVE_RUNTIME}"`));
    out.push(...steps);
  }
  if (needsRuntime) out.unshift(flotillaServingRuntime(image(options, `${plan.file}`)));
  return out;
}
