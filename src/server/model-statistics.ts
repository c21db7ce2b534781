import type { ModelMetrics, VersionStatistics } from './metrics/model-metrics.js';
import type { ModelManager } from './repository/model-manager.js';

/**
 * Triton's statistics answer (`{"model_stats": [...]}`) for every ready version of every model,
 * of one model, or one version; an unknown model or version throws the 404 metadata throws.
 */
export function modelStatistics(
  manager: ModelManager,
  metrics: ModelMetrics,
  model: string | undefined,
  version: string | undefined,
): { model_stats: VersionStatistics[] } {
  const rows = manager.readyVersions(model, version);
  return { model_stats: rows.map((r) => metrics.statistics(r.name, String(r.version))) };
}
