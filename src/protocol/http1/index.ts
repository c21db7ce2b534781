export * from './fallback.js';
export * from './field-syntax.js';
export * from './read-deadlines.js';
export * from './refuse.js';
export * from './request-head.js';
export * from './request-memory.js';
export * from './response-head.js';
export * from './socket-input.js';
