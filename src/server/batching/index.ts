export * from './batch-policy.js';
export * from './batch-tensors.js';
export * from './dynamic-batcher.js';
