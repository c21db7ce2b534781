import { InvalidRequestError } from '../../core/index.js';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** True for a plain folder name: nothing that could climb out of the repository. */
export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name) && !name.includes('..');
}

/** Throws a 400 naming the field for a model name that is not a plain folder name. */
export function checkModelName(name: string, field = 'model name'): void {
  if (!isValidModelName(name)) {
    throw new InvalidRequestError(
      'FLT_INVALID_MODEL_NAME',
      `${field}: ${JSON.stringify(name)} is not a valid model name (letters, digits, '_', '.', '-'; no '..' or '/')`,
    );
  }
}

/** Parses a version path segment; throws a 400 for anything but a positive integer. */
export function parseVersion(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) {
    throw new InvalidRequestError(
      'FLT_INVALID_VERSION',
      `version: ${JSON.stringify(text)} is not a positive integer`,
    );
  }
  return Number(text);
}
