import { FlotillaError } from '../core/index.js';

/** A replica could not be reached or did not answer in time (HTTP 502 / 504). */
export class UpstreamError extends FlotillaError {
  constructor(
    code: 'FLT_UPSTREAM_FAILED' | 'FLT_UPSTREAM_TIMEOUT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
