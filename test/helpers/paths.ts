import { fileURLToPath } from 'node:url';

/** The checkout's root (tests run from dist/test/…). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = `${ROOT}bin/flotilla.js`;
export const EXAMPLE_MODELS = `${ROOT}examples/models`;
export const FIXTURE_MODELS = `${ROOT}test/fixtures/models`;
