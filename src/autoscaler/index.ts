export * from './concurrency-tracker.js';
export * from './concurrency-window.js';
export * from './kpa-scaler.js';
export * from './scaler.js';
