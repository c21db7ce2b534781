export { RenderError } from './errors.js';
export { gatewayServiceFile, variantHost } from './gateway-file.js';
export { KNATIVE_LIMITS, knativeAutoscaling, renderKnative } from './knative.js';
export {
  APPLY_STEP,
  flotillaServingRuntime,
  KSERVE_MODEL_DIR,
  KSERVE_RUNTIME,
  renderKServe,
} from './kserve.js';
export { renderKubernetes } from './kubernetes.js';
export { checkName, isObjectName, labels } from './names.js';
export type { RenderedObject } from './object.js';
export {
  type GatewayServiceType,
  type KubernetesAutoscaler,
  type ModelSource,
  parseModelSource,
  RENDER_DEFAULTS,
  type RenderOptions,
  refuseKubernetesOnlyFlags,
  renderOptions,
} from './options.js';
export {
  PADDLE_RESOURCE_DEFAULTS,
  type PlanResources,
  type PlanRuns,
  type PlanScale,
  type PlanService,
  type PlanVariant,
  planFromPaddleServices,
  planFromServiceSpecs,
  type RenderPlan,
  readRenderPlan,
  toPercents,
} from './plan.js';
export { type PodContext, requestTimeoutS, type VariantPod, variantPod } from './pod.js';
export { modelServerPorts, type ServerPorts } from './ports.js';
export { render, renderPlan, renderTargetNames } from './render.js';
export { RENDER_TARGETS, type Renderer } from './targets.js';
export {
  APPLY_STEP_ANNOTATION,
  applyStep,
  kustomization,
  objectFileName,
  sortKeys,
  toYaml,
  toYamlStream,
} from './yaml.js';
