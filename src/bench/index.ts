export * from './closed-loop.js';
export * from './latency-histogram.js';
