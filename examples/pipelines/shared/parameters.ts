/**
 * Reading a js model's `parameters` (from its config.yaml) with defaults, failing the load with
 * a message naming the key when a value has the wrong type or range.
 */

/** The `parameters` a js module receives. */
export type Parameters = Readonly<Record<string, string | number | boolean>>;

/** A number parameter, `fallback` when absent; throws when not a number within [min, max]. */
export function numberParameter(
  params: Parameters,
  key: string,
  fallback: number,
  range: { readonly min?: number; readonly max?: number; readonly integer?: boolean } = {},
): number {
  const value = params[key] ?? fallback;
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, integer = false } = range;
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new Error(
      `parameters.${key}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A string parameter, `fallback` when absent; throws when not a non-empty string. */
export function stringParameter(params: Parameters, key: string, fallback: string): string {
  const value = params[key] ?? fallback;
  if (typeof value !== 'string' || value === '') {
    throw new Error(`parameters.${key}: expected a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}
