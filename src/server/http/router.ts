import { InvalidRequestError, NotFoundError } from '../../core/index.js';

const SEEN_ENTRIES = 1024;
const SEEN_PATH_MAX = 256;

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
  /**
   * Matches of paths seen before: clients repeat the same few paths, and splitting and decoding a
   * path costs about as much per request as the rest of routing. Bounded; cleared when full.
   */
  private readonly seen = new Map<string, RouteMatch<H>>();

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    this.seen.clear();
    return this;
  }

  /** Finds the route for a method and path; throws 404 (no path) or 405 (path, other method). */
  match(method: string, path: string): RouteMatch<H> {
    const key = `${method} ${path}`;
    const hit = this.seen.get(key);
    if (hit) return hit;
    const found = this.find(method, path);
    if (path.length <= SEEN_PATH_MAX) {
      if (this.seen.size >= SEEN_ENTRIES) this.seen.clear();
      this.seen.set(key, found);
    }
    return found;
  }

  private find(method: string, path: string): RouteMatch<H> {
    const parts = path.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        pathMatched = true;
        continue;
      }
      return { handler: route.handler, params: Object.freeze(params) };
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
