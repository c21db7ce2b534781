export * from './batch-policy.js';
export * from './batch-tensors.js';
