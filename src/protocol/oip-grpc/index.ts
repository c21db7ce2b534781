export * from './infer-codec.js';
export * from './messages.js';
export * from './parameters.js';
export * from './proto.js';
export * from './tensor-contents.js';
