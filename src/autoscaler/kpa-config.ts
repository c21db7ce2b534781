import type { ScaleSpec } from '../spec/index.js';

/**
 * Knative KPA settings for one variant, in the service file's units (names after Knative's
 * annotations, units in the names). Defaults are not written here: they are the service file's
 * (`SERVICE_FILE_DEFAULTS.scale`, which spreads `KNATIVE_SCALE_DEFAULTS`), reached by `kpaConfigOf`.
 */
export interface KpaConfig {
  /** Concurrent requests one replica should handle (Knative `target`). */
  readonly targetConcurrency: number;
  /** Share of the target to aim for, 0..1 (Knative `target-utilization-percentage` / 100). */
  readonly targetUtilization: number;
  /** Window of the stable average (Knative `window`). */
  readonly stableWindowMs: number;
  /** Panic window, in percent of the stable window (Knative `panic-window-percentage`). */
  readonly panicWindowPercent: number;
  /** Panic when the panic window asks for this percent of the ready replicas (Knative `panic-threshold-percentage`). */
  readonly panicThresholdPercent: number;
  /** At most this many times the ready replicas per decision (Knative `max-scale-up-rate`). */
  readonly maxScaleUpRate: number;
  /** At least ready / this per decision while reachable (Knative `max-scale-down-rate`). */
  readonly maxScaleDownRate: number;
  readonly min: number;
  readonly max: number;
  /** Replicas before any measurement (Knative `initial-scale`). */
  readonly initialScale: number;
  /** Replicas at least, once any load is seen (Knative `activation-scale`). */
  readonly activationScale: number;
  /** With min 0: once inactive (a stable window without requests), this long more before zero. */
  readonly scaleToZeroAfterMs: number;
  /** A scale-down applies only after the higher counts decided within this long (Knative `scale-down-delay`). */
  readonly scaleDownDelayMs: number;
}

/** Knative KPA settings of a variant's `scale:` section. */
export function kpaConfigOf(scale: ScaleSpec): KpaConfig {
  return {
    targetConcurrency: scale.targetConcurrency,
    targetUtilization: scale.targetUtilization,
    stableWindowMs: scale.stableWindowMs,
    panicWindowPercent: scale.panicWindowPercent,
    panicThresholdPercent: scale.panicThresholdPercent,
    maxScaleUpRate: scale.maxScaleUpRate,
    maxScaleDownRate: scale.maxScaleDownRate,
    min: scale.min,
    max: scale.max,
    // Knative starts a revision with one replica (initial-scale 1) unless told otherwise.
    initialScale: scale.initial ?? Math.max(scale.min, 1),
    activationScale: scale.activationScale,
    scaleToZeroAfterMs: scale.scaleToZeroAfterMs,
    scaleDownDelayMs: scale.scaleDownDelayMs,
  };
}
