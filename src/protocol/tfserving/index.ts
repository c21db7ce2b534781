export * from './dense-json.js';
export * from './json-text.js';
export * from './model-status.js';
export * from './non-finite-json.js';
export * from './predict-request.js';
export * from './predict-response.js';
