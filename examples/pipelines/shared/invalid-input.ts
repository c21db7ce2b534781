/**
 * The error a pipeline throws when the request's data, not the server, is at fault.
 *
 * Errors cross from the js backend's worker thread to the server as a message plus a string
 * `code`; the server answers HTTP 400 (gRPC INVALID_ARGUMENT) for this code and 500 for
 * anything else (src/server/backends/worker-pool.ts).
 */
export const INVALID_INPUT_CODE = 'FLT_INVALID_FIELD';

/** An input the pipeline cannot use: an undecodable, empty or oversized image, a wrong shape. */
export class InvalidInputError extends Error {
  readonly code = INVALID_INPUT_CODE;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidInputError';
  }
}
