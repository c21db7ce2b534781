export * from './format-issues.js';
export * from './model-config.js';
export * from './paddle-predictors.js';
export * from './paddle-service.js';
export * from './service-file.js';
