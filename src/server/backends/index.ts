export * from './backend.js';
export * from './inline-instance.js';
export * from './js/js-backend.js';
export type * from './js/js-model-api.js';
export * from './model-file.js';
export * from './onnx/onnx-backend.js';
export { errorFromWorker, pipelineDepth } from './worker-pool.js';
