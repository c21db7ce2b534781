export * from './balancer.js';
export * from './least-request-balancer.js';
export * from './round-robin-balancer.js';
