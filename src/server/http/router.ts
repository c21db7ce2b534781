import { InvalidRequestError, NotFoundError } from '../../core/index.js';

/** A matched route: its handler and the decoded path parameters. */
export interface RouteMatch<H> {
  readonly handler: H;
  readonly params: Readonly<Record<string, string>>;
}

interface Route<H> {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: H;
}

/**
 * A small path router: patterns are `/`-separated segments, `:name` captures one segment, and a
 * segment may carry a literal suffix after the capture (`:model:predict`, as TF Serving's paths do).
 */
export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Finds the route for a method and path; throws 404 (no path) or 405 (path, other method). */
  match(method: string, path: string): RouteMatch<H> {
    const parts = path.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        pathMatched = true;
        continue;
      }
      return { handler: route.handler, params };
    }
    if (pathMatched) throw new NotFoundError('FLT_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`);
    throw new NotFoundError('FLT_ROUTE_NOT_FOUND', `no endpoint at ${method} ${path}`);
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestError(
      'FLT_INVALID_FIELD',
      `path: ${JSON.stringify(segment)} is not valid percent-encoding`,
    );
  }
}

function matchSegments(
  pattern: readonly string[],
  parts: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = parts[i]!;
    if (!p.startsWith(':')) {
      if (p !== s) return undefined;
      continue;
    }
    const suffixAt = p.indexOf(':', 1);
    if (suffixAt < 0) {
      params[p.slice(1)] = decode(s);
      continue;
    }
    const suffix = p.slice(suffixAt);
    if (!s.endsWith(suffix) || s.length === suffix.length) return undefined;
    params[p.slice(1, suffixAt)] = decode(s.slice(0, -suffix.length));
  }
  return params;
}
