export * from './dtypes.js';
export * from './model-spec-wire.js';
export * from './predict-wire.js';
export * from './proto.js';
export * from './proto-writer.js';
export * from './response-wire.js';
export * from './tensor-proto-wire.js';
