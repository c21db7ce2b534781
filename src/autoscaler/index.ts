export { ConcurrencyTracker } from './concurrency-tracker.js';
export { ConcurrencyWindow } from './concurrency-window.js';
export { type KpaConfig, kpaConfigOf } from './kpa-config.js';
export { KpaScaler, type KpaStart } from './kpa-scaler.js';
export type { ScaleDecision, Scaler, ScalerInput } from './scaler.js';
