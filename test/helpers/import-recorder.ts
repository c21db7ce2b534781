/**
 * Module customization hooks (node:module `register`) that append every resolved URL to the file
 * named by IMPORT_RECORD: what a child process loaded, for tests of what a package pulls in.
 */
import { appendFileSync } from 'node:fs';

interface Resolved {
  readonly url: string;
}
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

export async function resolve(specifier: string, context: unknown, next: NextResolve): Promise<Resolved> {
  const resolved = await next(specifier, context);
  const out = process.env.IMPORT_RECORD;
  if (out) appendFileSync(out, `${resolved.url}\n`);
  return resolved;
}
