import { FlotillaError } from '../core/index.js';

/** A `flotilla bench` flag or input file that cannot work; the message names the flag and value. */
export class BenchArgumentError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FLT_BENCH_INVALID_ARGUMENT', message, options);
  }
}

/** The target did not answer at all (refused, unknown host, timed out) before the run started. */
export class BenchUnreachableError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FLT_BENCH_UNREACHABLE', message, options);
  }
}
