export * from './local/backoff.js';
export * from './local/local-orchestrator.js';
export * from './orchestrator.js';
