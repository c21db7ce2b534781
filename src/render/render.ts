import { RenderError } from './errors.js';
import type { RenderedObject } from './object.js';
import { type RenderOptions, renderOptions } from './options.js';
import { type RenderPlan, readRenderPlan } from './plan.js';
import { RENDER_TARGETS } from './targets.js';
import { applyStep } from './yaml.js';

/** The names of the targets, in the order `--help` lists them. */
export const renderTargetNames = (): string[] => Object.keys(RENDER_TARGETS).sort();

/**
 * Renders a plan for a target. Throws RenderError for an unknown target, for what the target
 * cannot express, and for two objects of one kind and name (two variants whose names meet, such as
 * service `a` tag `b-c` and service `a-b` tag `c`).
 */
export function renderPlan(plan: RenderPlan, target: string, options: RenderOptions): RenderedObject[] {
  const renderer = Object.hasOwn(RENDER_TARGETS, target) ? RENDER_TARGETS[target] : undefined;
  if (!renderer)
    throw new RenderError(
      `--target ${target}: unknown target; the targets are ${renderTargetNames().join(', ')}`,
    );
  const objects = renderer(plan, options);
  const seen = new Set<string>();
  for (const o of objects) {
    // The steps of a KServe canary are one object at successive apply steps.
    const key = `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} ${applyStep(o)}`;
    if (seen.has(key))
      throw new RenderError(
        `${plan.file}: two objects would be ${o.kind} ${o.metadata.name} in namespace ${o.metadata.namespace}: rename a service or a tag`,
      );
    seen.add(key);
  }
  return objects;
}

/** Reads the text of a service file (or PaddleServices) and renders it for a target. */
export function render(
  text: string,
  file: string,
  target: string,
  options: Partial<RenderOptions> = {},
): RenderedObject[] {
  return renderPlan(readRenderPlan(text, file), target, renderOptions(options));
}
