import { setFlagsFromString } from 'node:v8';

/**
 * The old generation may grow to 4× what a major GC left alive (V8's own ceiling for the factor
 * it otherwise adapts between 1.1 and 4 from GC and mutator speed).
 */
export const SERVING_HEAP_GROWING_PERCENT = 300;

/**
 * A model server's heap is small and long-lived (code, configs, metrics) while requests pass
 * through it as tensor buffers outside the heap that die young. With V8's adaptive factor the
 * limit it sets after a major GC can sit so close to that small live heap that the next marking
 * starts at once: serving `ocr_cls` ([1,3,48,192], 110 KB a request) at ~1,200 requests/s, about
 * half of the runs fell into back-to-back major GCs (16–40 in 3 s instead of 0–4), costing about a
 * fifth more CPU per request. The factor is read at every GC, so setting it once the process runs
 * takes effect (on worker threads too).
 */
export function tuneHeapForServing(): void {
  setFlagsFromString(`--heap-growing-percent=${SERVING_HEAP_GROWING_PERCENT}`);
}
