import { renderKnative } from './knative.js';
import { renderKServe } from './kserve.js';
import { renderKubernetes } from './kubernetes.js';
import type { RenderedObject } from './object.js';
import type { RenderOptions } from './options.js';
import type { RenderPlan } from './plan.js';

/** Renders a plan for one target; throws RenderError for what the target cannot express. */
export type Renderer = (plan: RenderPlan, options: RenderOptions) => RenderedObject[];

/** Every target `flotilla render --target` takes, by name. */
export const RENDER_TARGETS: Readonly<Record<string, Renderer>> = Object.freeze({
  knative: renderKnative,
  kserve: renderKServe,
  kubernetes: renderKubernetes,
});
