/**
 * Where the model name sits in the protocol paths the gateway routes by, so it can be read without
 * a router and replaced without re-building the path:
 *   OIP v2       /v2/models/{name}[/versions/{v}][/infer|/ready|…]
 *   TF Serving   /v1/models/{name}[/versions/{v}][:predict|/metadata]
 *   Paddle       /{name}/prediction
 */

/** The model name's place in a path (`start`..`end`) and whether a version follows it. */
export interface ModelSegment {
  readonly protocol: 'oip' | 'tfserving' | 'paddle';
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly hasVersion: boolean;
}

const V2 = '/v2/models/';
const V1 = '/v1/models/';
const PADDLE = '/prediction';

/** Finds the model name in a protocol path (no query string); undefined for any other path. */
export function findModelSegment(path: string): ModelSegment | undefined {
  if (path.startsWith(V2) || path.startsWith(V1)) {
    const start = V2.length;
    const v1 = path.charCodeAt(2) === 49; // '1'
    let end = start;
    while (end < path.length) {
      const c = path.charCodeAt(end);
      if (c === 47 || (v1 && c === 58)) break; // '/' or, for TF Serving, ':'
      end++;
    }
    if (end === start) return undefined;
    return {
      protocol: v1 ? 'tfserving' : 'oip',
      name: path.slice(start, end),
      start,
      end,
      hasVersion: path.startsWith('/versions/', end),
    };
  }
  if (path.endsWith(PADDLE)) {
    const end = path.length - PADDLE.length;
    if (end > 1 && path.lastIndexOf('/', end - 1) === 0) {
      return { protocol: 'paddle', name: path.slice(1, end), start: 1, end, hasVersion: false };
    }
  }
  return undefined;
}

/** OIP and TF Serving endpoints under a model that also exist under a version. */
const VERSIONED_REST = new Set(['', '/infer', '/ready', '/metadata', ':predict', ':classify', ':regress']);

/**
 * The path with the model name replaced, and `version` inserted when the request names none and
 * the endpoint has a versioned form (Paddle's has none).
 */
export function rewriteModel(path: string, seg: ModelSegment, name: string, version?: string): string {
  const rest = path.slice(seg.end);
  const pinned =
    version !== undefined && !seg.hasVersion && seg.protocol !== 'paddle' && VERSIONED_REST.has(rest)
      ? `/versions/${version}`
      : '';
  return path.slice(0, seg.start) + name + pinned + rest;
}
