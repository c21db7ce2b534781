import { type BodyBounds, bodyLimit } from '../request-bounds.js';
import type { HttpServerOptions } from './http-server.js';
import { inferenceHeaderLength } from './oip-routes.js';

/** The model an inference request's path names, and whether it is an OIP request. */
export interface InferenceTarget {
  readonly model: string;
  readonly version?: string;
  /** OIP v2 (which may use the binary extension); else TF Serving or Paddle (JSON only). */
  readonly oip: boolean;
}

const target = (model: string | undefined, version: string | undefined, oip: boolean) =>
  model === undefined || model === ''
    ? undefined
    : { model, ...(version !== undefined ? { version } : {}), oip };

/**
 * The model named by a POST to an inference endpoint: OIP's `/v2/models/{m}[/versions/{v}]/infer`,
 * TF Serving's `/v1/models/{m}[/versions/{v}]:predict`, Paddle's `/{m}/prediction`; undefined for
 * any other request. Mirrors the routes in oip-routes.ts, tfserving-routes.ts, paddle-routes.ts.
 */
export function inferenceTarget(method: string, path: string): InferenceTarget | undefined {
  if (method !== 'POST') return undefined;
  const parts = path.split('/');
  // ['', 'v2', 'models', m, 'infer'] or ['', 'v2', 'models', m, 'versions', v, 'infer']
  if (parts[1] === 'v2' && parts[2] === 'models') {
    if (parts.length === 5 && parts[4] === 'infer') return target(parts[3], undefined, true);
    if (parts.length === 7 && parts[4] === 'versions' && parts[6] === 'infer')
      return target(parts[3], parts[5], true);
    return undefined;
  }
  if (parts[1] === 'v1' && parts[2] === 'models') {
    const last = parts.at(-1)!;
    if (!last.endsWith(':predict')) return undefined;
    const tail = last.slice(0, -':predict'.length);
    if (parts.length === 4) return target(tail, undefined, false);
    if (parts.length === 6 && parts[4] === 'versions') return target(parts[3], tail, false);
    return undefined;
  }
  if (parts.length === 3 && parts[2] === 'prediction') return target(parts[1], undefined, false);
  return undefined;
}

/**
 * The HTTP server's `bodyLimit`: an inference request may send what its model's inputs can need
 * at their largest shapes (`bounds`, looked up per request, decided at model load), never more
 * than `maxBodyBytes`; any other request, or a model without bounds, gets `maxBodyBytes`.
 */
export function modelBodyLimit(
  bounds: (model: string, version: string | undefined) => BodyBounds | undefined,
  maxBodyBytes: number,
): NonNullable<HttpServerOptions['bodyLimit']> {
  return (head) => {
    const t = inferenceTarget(head.method, head.path);
    if (!t) return undefined;
    const b = bounds(t.model, t.version);
    if (!b) return undefined;
    // A bad header value gets the JSON bound; the route refuses the value itself.
    const headerLength = t.oip ? inferenceHeaderLength(head.headers) : undefined;
    return Math.min(bodyLimit(b, headerLength), maxBodyBytes);
  };
}
