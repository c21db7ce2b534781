export * from './format-issues.js';
export * from './model-config.js';
