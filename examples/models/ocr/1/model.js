// The ocr pipeline's code is TypeScript in examples/pipelines/ocr/; `npm run build` compiles it
// to dist/, and this module re-exports it so the version folder holds no build output.
export { infer, load } from '../../../../dist/examples/pipelines/ocr/model.js';
