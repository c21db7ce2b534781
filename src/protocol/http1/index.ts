export * from './request-head.js';
export * from './response-head.js';
export * from './socket-input.js';
