export * from './clock.js';
export * from './datatypes.js';
export * from './errors.js';
export * from './float16.js';
export * from './inference.js';
export * from './logger.js';
export * from './random.js';
export * from './tensor.js';
