import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AccessDeniedError,
  asFlotillaError,
  type Clock,
  checkAdminToken,
  InvalidRequestError,
  type Logger,
  NotFoundError,
} from '../core/index.js';
import type { StatusReport } from '../fleet/index.js';
import type { AdminUi, GatewayState } from '../gateway/index.js';
import {
  buildFrame,
  countersOf,
  type DashboardFrame,
  type FrameCounters,
  type HistoryPoint,
  historyPoint,
  type SloLines,
} from './frame.js';
import { HistoryRing } from './history-ring.js';
import { SESSION_DEFAULTS, type SessionOptions, SessionStore } from './session-store.js';
import { pageAsset, staticAsset } from './static-assets.js';

/** Dashboard settings; defaults in DASHBOARD_DEFAULTS. */
export interface DashboardOptions {
  /** The admin token a sign-in must give (no token: sign-in refused, as the admin API is). */
  readonly adminToken: string | undefined;
  /** A frame is sampled and streamed this often (ms). */
  readonly intervalMs: number;
  /** Frames kept server side for a page opened later (at `intervalMs`, 300 is 5 minutes). */
  readonly historySize: number;
  /** p50/p99 are of requests that ended within this window (ms). */
  readonly latencyWindowMs: number;
  /** Events (scaling, rollout, replica decisions) per frame, the newest. */
  readonly maxEvents: number;
  /** Mark the session cookie `Secure` (the listener serves HTTPS). */
  readonly secureCookie: boolean;
  readonly sessions: SessionOptions;
}

/** The defaults of DashboardOptions, in one place. */
export const DASHBOARD_DEFAULTS = Object.freeze({
  intervalMs: 1000,
  historySize: 300,
  latencyWindowMs: 5000,
  maxEvents: 50,
  secureCookie: false,
  sessions: SESSION_DEFAULTS,
});

/** What the dashboard reads. */
export interface DashboardDeps {
  /** The gateway's clock (monotonic; latencies are recorded on it). */
  readonly clock: Clock;
  /** Wall-clock time for the page's time axis (ms since the epoch). */
  readonly wallNow: () => number;
  readonly logger: Logger;
  readonly state: () => GatewayState;
  /** `flotilla up` only: the fleet's status (replica states, scaling, rollouts, decisions). */
  readonly status?: () => StatusReport;
  /** Latency quantiles (ms) of a variant's requests that ended at or after `sinceMs` (gateway clock). */
  readonly latency: (service: string, variant: string, sinceMs: number) => { p50Ms?: number; p99Ms?: number };
  readonly slo: (service: string) => SloLines | undefined;
}

/** The cookie holding the opaque session id. */
export const SESSION_COOKIE = 'flotilla_session';
/** The header every state-changing call from the page carries (the session's CSRF token). */
export const CSRF_HEADER = 'x-flotilla-csrf';

/**
 * Strict: only files of this origin, no inline script or style, no frames, no plugins. uPlot
 * styles its elements through the CSSOM (`el.style`), which `style-src 'self'` allows.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

const MAX_SIGN_IN_BODY = 4096;

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether a request's `Origin` is the origin it was sent to (its `Host`, over this listener's
 * scheme). A browser sends `Origin` on every cross-origin request and on same-origin POST, PUT and
 * DELETE, so a missing one on a state-changing call is refused too.
 */
export function sameOrigin(req: IncomingMessage, secure: boolean): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (typeof origin !== 'string' || typeof host !== 'string') return false;
  return origin === `${secure ? 'https' : 'http'}://${host}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The live dashboard at `/_flotilla/ui` on the admin listener: the page and its static files
 * (strict CSP), sign-in with the admin token to an HttpOnly SameSite=Strict session cookie, and a
 * server-sent-events stream of frames (the status every `intervalMs`, after the last minutes of
 * history kept in a bounded ring). Its controls call the admin API itself, which accepts the
 * session in place of the bearer token when the call carries the session's CSRF token and an
 * `Origin` of this listener.
 */
export class Dashboard implements AdminUi {
  private readonly sessions: SessionStore;
  private readonly history: HistoryRing<HistoryPoint>;
  private readonly streams = new Set<{ res: ServerResponse; sessionId: string }>();
  private counters: FrameCounters | undefined;
  private latest: DashboardFrame | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: DashboardOptions,
    private readonly deps: DashboardDeps,
  ) {
    this.sessions = new SessionStore(options.sessions);
    this.history = new HistoryRing(options.historySize);
  }

  /** Starts sampling (history accumulates with no page open, so a page opened later has it). */
  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling and ends every open stream (before the listener drains, or it would wait on them). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }

  /** Open event streams (pages watching). */
  get watching(): number {
    return this.streams.size;
  }

  /** Samples one frame, keeps its history point and sends it to every open stream. */
  tick(): void {
    let frame: DashboardFrame;
    try {
      const state = this.deps.state();
      const since = state.atMs - this.options.latencyWindowMs;
      frame = buildFrame({
        wallMs: this.deps.wallNow(),
        state,
        ...(this.deps.status ? { status: this.deps.status() } : {}),
        ...(this.counters ? { previous: this.counters } : {}),
        latency: (s, v) => this.deps.latency(s, v, since),
        slo: this.deps.slo,
        maxEvents: this.options.maxEvents,
      });
      this.counters = countersOf(state);
    } catch (err) {
      this.deps.logger.warn('dashboard sample failed', { error: (err as Error).message });
      return;
    }
    this.latest = frame;
    const point = historyPoint(frame);
    this.history.push(point);
    if (this.streams.size === 0) return;
    const message = `event: frame\ndata: ${JSON.stringify({ frame, point })}\n\n`;
    const now = this.deps.clock.now();
    for (const s of this.streams) {
      // A session that ended (signed out, expired) stops receiving at once.
      if (!this.sessions.get(s.sessionId, now)) {
        s.res.end();
        this.streams.delete(s);
      } else s.res.write(message);
    }
  }

  /**
   * Whether the request is signed in through a dashboard session (so the bearer token is not
   * needed). A request with a session cookie but no valid CSRF token or a foreign `Origin` on a
   * state-changing method is refused (403), not passed on to the token check.
   */
  signedIn(req: IncomingMessage): boolean {
    if (req.headers.authorization !== undefined) return false;
    const session = this.sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE), this.deps.clock.now());
    if (!session) return false;
    if (SAFE_METHODS.has(req.method ?? 'GET')) return true;
    if (req.headers[CSRF_HEADER] !== session.csrf || !sameOrigin(req, this.options.secureCookie))
      throw new AccessDeniedError(
        'FLT_CSRF_REJECTED',
        `a dashboard session's ${req.method} needs the session's ${CSRF_HEADER} header and an Origin of this listener`,
      );
    return true;
  }

  /** Answers `ui`, `ui/static/…`, `ui/session` and `ui/events` (path without the admin prefix). */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    try {
      if (path === 'ui' && SAFE_METHODS.has(method))
        return this.sendAsset(res, pageAsset(), method, 'no-store');
      if (path.startsWith('ui/static/') && SAFE_METHODS.has(method)) {
        const asset = staticAsset(path.slice('ui/static/'.length));
        if (asset) return this.sendAsset(res, asset, method, 'no-cache');
      } else if (path === 'ui/session') {
        if (method === 'GET') return this.sessionInfo(req, res);
        if (method === 'POST') return await this.signIn(req, res);
        if (method === 'DELETE') return this.signOut(req, res);
      } else if (path === 'ui/events' && method === 'GET') return this.openStream(req, res);
      throw new NotFoundError('FLT_ROUTE_NOT_FOUND', `no dashboard endpoint at ${method} /_flotilla/${path}`);
    } catch (err) {
      this.sendJson(res, asFlotillaError(err).httpStatus, {
        error: asFlotillaError(err).message,
        code: asFlotillaError(err).code,
      });
    }
  }

  private session(req: IncomingMessage) {
    return this.sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE), this.deps.clock.now());
  }

  private sessionInfo(req: IncomingMessage, res: ServerResponse): void {
    // 200 either way: a page opened before signing in asks without it being an error.
    const session = this.session(req);
    this.sendJson(
      res,
      200,
      session
        ? { signedIn: true, csrf: session.csrf, expiresInMs: session.expiresAtMs - this.deps.clock.now() }
        : { signedIn: false },
    );
  }

  private async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A form on another site cannot sign a browser in (login CSRF): same origin and JSON only.
    if (!sameOrigin(req, this.options.secureCookie))
      throw new AccessDeniedError('FLT_CSRF_REJECTED', 'sign-in: the Origin header must be this listener');
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      throw new InvalidRequestError('FLT_INVALID_FIELD', 'sign-in: expected content-type application/json');
    const body = await readBody(req);
    let token: unknown;
    try {
      token = (JSON.parse(body) as { token?: unknown } | null)?.token;
    } catch (err) {
      throw new InvalidRequestError('FLT_INVALID_JSON', `body: ${(err as Error).message}`, { cause: err });
    }
    if (typeof token !== 'string')
      throw new InvalidRequestError('FLT_INVALID_FIELD', 'token: expected {"token": "<admin token>"}');
    checkAdminToken(`Bearer ${token}`, this.options.adminToken, 'gateway');
    const session = this.sessions.create(this.deps.clock.now());
    const maxAge = Math.floor(this.options.sessions.ttlMs / 1000);
    res.setHeader(
      'set-cookie',
      `${SESSION_COOKIE}=${session.id}; Path=/_flotilla/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.options.secureCookie ? '; Secure' : ''}`,
    );
    this.deps.logger.info('dashboard sign-in', { sessions: this.sessions.size });
    this.sendJson(res, 200, { csrf: session.csrf });
  }

  private signOut(req: IncomingMessage, res: ServerResponse): void {
    const session = this.session(req);
    if (session && this.signedIn(req)) this.sessions.delete(session.id);
    res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/_flotilla/; HttpOnly; SameSite=Strict; Max-Age=0`);
    this.sendJson(res, 200, { signedIn: false });
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    const session = this.session(req);
    if (!session) throw new AccessDeniedError('FLT_UNAUTHENTICATED', 'not signed in');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.write(`retry: 2000\nevent: history\ndata: ${JSON.stringify(this.history.list())}\n\n`);
    if (this.latest) res.write(`event: frame\ndata: ${JSON.stringify({ frame: this.latest })}\n\n`);
    const entry = { res, sessionId: session.id };
    this.streams.add(entry);
    res.once('close', () => this.streams.delete(entry));
  }

  private sendAsset(
    res: ServerResponse,
    asset: { contentType: string; body: Buffer },
    method: string,
    cache: string,
  ): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': asset.contentType,
      'content-length': asset.body.byteLength,
      'cache-control': cache,
    });
    res.end(method === 'HEAD' ? undefined : asset.body);
  }

  private sendJson(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.byteLength;
    if (size > MAX_SIGN_IN_BODY)
      throw new InvalidRequestError('FLT_BODY_TOO_LARGE', `sign-in body over ${MAX_SIGN_IN_BODY} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
