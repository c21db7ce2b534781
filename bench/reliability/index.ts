/**
 * The reliability probes, in the order the suite runs them (one at a time: several send large
 * bodies on purpose, and two at once would blur each other's memory figures).
 */
import { amplification } from './amplification.js';
import { deepNesting } from './deep-nesting.js';
import { fuzz } from './fuzz.js';
import { kill } from './kill.js';
import { partialBodies } from './partial-bodies.js';
import type { Probe } from './shared.js';
import { slowloris } from './slowloris.js';
import { soak } from './soak.js';
import { unreadAnswers } from './unread-answers.js';

export { BOUNDS, type RunScale, SCALES } from './bounds.js';
export { writeReliabilityResults } from './report.js';
export type { Probe, ProbeOptions, ProbeResult } from './shared.js';

/** Every probe by name. */
export const PROBES: Readonly<Record<string, Probe>> = {
  amplification,
  slowloris,
  'unread-answers': unreadAnswers,
  'partial-bodies': partialBodies,
  'deep-nesting': deepNesting,
  fuzz,
  kill,
  soak,
};
