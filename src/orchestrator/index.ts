export * from './local/backoff.js';
export * from './local/local-orchestrator.js';
export * from './local/replica-cost.js';
export * from './orchestrator.js';
