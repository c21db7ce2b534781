import type { z } from 'zod';
import { previewJson } from '../core/index.js';

/** Follows a zod issue path into the raw input to show the offending value. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** `a.b[2].c` for a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function describe(value: unknown): string {
  // Bounded: a request body's value may be nested 100,000 deep or be megabytes long.
  return value === undefined ? 'nothing' : previewJson(value);
}

/**
 * One readable line per issue: the field path, what is allowed, and the value that was given,
 * e.g. `version_policy.latest: Too small: expected number to be >=1 (got 0)`.
 */
export function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? formatPath(issue.path) : '(top level)';
      const got = issue.code === 'unrecognized_keys' ? '' : ` (got ${describe(valueAt(input, issue.path))})`;
      return `${where}: ${issue.message}${got}`;
    })
    .join('; ');
}
