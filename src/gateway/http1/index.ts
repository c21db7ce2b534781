export * from './fast-call.js';
export * from './fast-connection.js';
export * from './request-head.js';
export * from './response-head.js';
export * from './socket-pool.js';
