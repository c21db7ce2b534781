import { InvalidRequestError, previewJson } from '../../core/index.js';

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

/**
 * A version number from its text (a path segment, a folder name), or undefined when the text is
 * not a positive integer written plainly. Versions stop at 2^53 - 1 (Number.MAX_SAFE_INTEGER):
 * past it a number cannot hold every integer, and `9999999999999999` read as one became
 * 10000000000000000, another version's name.
 */
export function versionFromText(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) return undefined;
  const v = Number(text);
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Parses a version path segment; throws a 400 for anything but a positive integer up to 2^53 - 1. */
export function parseVersion(text: string): number {
  const v = versionFromText(text);
  if (v === undefined) {
    const why = /^[1-9][0-9]*$/.test(text)
      ? `is larger than the largest version, ${Number.MAX_SAFE_INTEGER}`
      : 'is not a positive integer';
    throw new InvalidRequestError('FLT_INVALID_VERSION', `version: ${previewJson(text)} ${why}`);
  }
  return v;
}
