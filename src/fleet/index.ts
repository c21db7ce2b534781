export * from './fleet.js';
export * from './status.js';
