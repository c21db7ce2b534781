import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  asFlotillaError,
  checkAdminToken,
  InvalidRequestError,
  type Logger,
  NotFoundError,
} from '../../core/index.js';
import type { GatewayState } from '../gateway-state.js';
import { sendError, sendJson } from '../proxy/replies.js';

/** Where the admin API lives on the data port (a prefix no model or service name can take). */
export const ADMIN_PREFIX = '/_flotilla/';

/** What the admin API reads and changes. */
export interface AdminTarget {
  /** The routing configuration (services, hosts, paths, variants and their endpoints). */
  routes(): unknown;
  state(): GatewayState;
  /** Validated: every tag, weights >= 0, one positive; `"50 | 50"` in variant order too. */
  setWeights(service: string, weights: Readonly<Record<string, number>> | string): void;
  /** Re-reads the service file; requests in flight finish on the replicas they started on. */
  reload(): Promise<void>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** `flotilla up` only: services, variants, replicas and recent decisions. */
  status(): unknown;
  /**
   * `flotilla up` only: pins a managed variant's replica count; above its max or the machine's
   * capacity refused (409 FLT_SCALE_LIMIT), or with `force` capped, the answer saying so.
   */
  scale(service: string, variant: string, replicas: number, force: boolean): unknown;
  /** `flotilla up` only: start, promote or roll back a service's canary. */
  rollout(service: string, action: 'start' | 'promote' | 'rollback'): Promise<unknown>;
}

/** The dashboard on the admin listener (src/ui implements it; the cli wires it in). */
export interface AdminUi {
  /** Answers a request under `ui` (`path` is without the admin prefix). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /**
   * Whether the request is signed in through a dashboard session instead of the bearer token;
   * throws (403) for a session whose state-changing call fails the CSRF guard.
   */
  signedIn(req: IncomingMessage): boolean;
}

const ROLLOUT_ACTIONS = ['start', 'promote', 'rollback'] as const;

function scaleOf(body: unknown): { replicas: number; force: boolean } {
  const n = (body as { replicas?: unknown } | null)?.replicas;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw new InvalidRequestError(
      'FLT_INVALID_FIELD',
      `replicas: expected {"replicas": <whole number >= 0>, "force"?: <boolean>}, got ${JSON.stringify(n ?? null)}`,
    );
  const force = (body as { force?: unknown }).force ?? false;
  if (typeof force !== 'boolean')
    throw new InvalidRequestError(
      'FLT_INVALID_FIELD',
      `force: expected true or false, got ${JSON.stringify(force)}`,
    );
  return { replicas: n, force };
}

function actionOf(body: unknown): (typeof ROLLOUT_ACTIONS)[number] {
  const a = (body as { action?: unknown } | null)?.action;
  const found = ROLLOUT_ACTIONS.find((x) => x === a);
  if (!found)
    throw new InvalidRequestError(
      'FLT_INVALID_FIELD',
      `action: expected one of ${ROLLOUT_ACTIONS.join(', ')}, got ${JSON.stringify(a ?? null)}`,
    );
  return found;
}

const MAX_ADMIN_BODY = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.byteLength;
    if (size > MAX_ADMIN_BODY)
      throw new InvalidRequestError('FLT_BODY_TOO_LARGE', `admin body over ${MAX_ADMIN_BODY} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new InvalidRequestError('FLT_INVALID_JSON', `body: ${(err as Error).message}`, { cause: err });
  }
}

function weightsOf(body: unknown): Readonly<Record<string, number>> | string {
  const w = (body as { weights?: unknown } | null)?.weights;
  if (typeof w === 'string') return w;
  if (w !== null && typeof w === 'object' && !Array.isArray(w)) {
    for (const [tag, value] of Object.entries(w)) {
      if (typeof value !== 'number') {
        throw new InvalidRequestError(
          'FLT_INVALID_FIELD',
          `weights.${tag}: ${JSON.stringify(value)} is not a number`,
        );
      }
    }
    return w as Record<string, number>;
  }
  throw new InvalidRequestError(
    'FLT_INVALID_FIELD',
    'weights: expected {"weights": {"<tag>": <number>, …}} or {"weights": "50 | 50"}',
  );
}

/**
 * The admin API: `GET metrics` (open, like the model server's /metrics), and behind the bearer
 * token `GET routes`, `GET state`, `PUT services/{name}/weights`, `POST reload`; under
 * `flotilla up` also `GET status`, `PUT services/{name}/variants/{tag}/scale` and
 * `POST services/{name}/rollout`. With a dashboard (`ui`), its page lives under `ui`, and its
 * signed-in session (cookie plus CSRF header) stands in for the bearer token.
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  target: AdminTarget,
  token: string | undefined,
  logger: Logger,
  ui?: AdminUi,
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).slice(ADMIN_PREFIX.length);
  const method = req.method ?? 'GET';
  try {
    if (path === 'metrics' && method === 'GET') {
      const m = await target.metrics();
      res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.body) });
      res.end(m.body);
      return;
    }
    if (ui && (path === 'ui' || path.startsWith('ui/'))) {
      await ui.handle(req, res, path);
      return;
    }
    if (!ui?.signedIn(req)) checkAdminToken(req.headers.authorization, token, 'gateway');
    const weights = /^services\/([^/]+)\/weights$/.exec(path);
    const scale = /^services\/([^/]+)\/variants\/([^/]+)\/scale$/.exec(path);
    const rollout = /^services\/([^/]+)\/rollout$/.exec(path);
    if (path === 'routes' && method === 'GET') sendJson(res, 200, target.routes());
    else if (path === 'state' && method === 'GET') sendJson(res, 200, target.state());
    else if (path === 'status' && method === 'GET') sendJson(res, 200, target.status());
    else if (scale && method === 'PUT') {
      const { replicas, force } = scaleOf(await readJson(req));
      sendJson(
        res,
        200,
        target.scale(decodeURIComponent(scale[1]!), decodeURIComponent(scale[2]!), replicas, force),
      );
    } else if (rollout && method === 'POST') {
      const action = actionOf(await readJson(req));
      sendJson(res, 200, await target.rollout(decodeURIComponent(rollout[1]!), action));
    } else if (weights && method === 'PUT') {
      const service = decodeURIComponent(weights[1]!);
      target.setWeights(service, weightsOf(await readJson(req)));
      logger.info('weights changed', {
        service,
        weights: JSON.stringify(
          target
            .state()
            .services.find((s) => s.name === service)
            ?.variants.map((v) => [v.tag, v.weight]),
        ),
      });
      sendJson(
        res,
        200,
        target.state().services.find((s) => s.name === service),
      );
    } else if (path === 'reload' && method === 'POST') {
      await target.reload();
      sendJson(res, 200, target.routes());
    } else
      throw new NotFoundError('FLT_ROUTE_NOT_FOUND', `no admin endpoint at ${method} ${ADMIN_PREFIX}${path}`);
  } catch (err) {
    const e = asFlotillaError(err);
    if (e.httpStatus >= 500) logger.error('admin request failed', { path, code: e.code, error: e.message });
    sendError(res, e);
  }
}
