import { FlotillaError } from '../core/index.js';

/**
 * The input cannot be written for the target asked for: a field with no equivalent there, a name
 * that is not a DNS-1123 label, a flag missing or out of place. The message names the field (or
 * flag) and the target; the CLI prints it on one line and exits with code 2.
 */
export class RenderError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FLT_RENDER_UNMAPPABLE', message, options);
  }
}
