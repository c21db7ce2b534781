export * from './base64.js';
export * from './binary-data.js';
export * from './json-data.js';
export * from './request-codec.js';
export * from './response-codec.js';
export * from './schema.js';
