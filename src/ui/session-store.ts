import { randomBytes } from 'node:crypto';

/** Settings of the dashboard's sign-in sessions; defaults in SESSION_DEFAULTS. */
export interface SessionOptions {
  /** A session ends this long after it was made, used or not (ms). */
  readonly ttlMs: number;
  /** At most this many sessions at once; signing in past it ends the oldest. */
  readonly maxSessions: number;
}

/** The defaults of SessionOptions, in one place: 12 hours, 64 sessions. */
export const SESSION_DEFAULTS: SessionOptions = Object.freeze({ ttlMs: 12 * 3600_000, maxSessions: 64 });

/** One signed-in browser. */
export interface Session {
  /** The opaque id in the HttpOnly cookie (never the admin token). */
  readonly id: string;
  /** What the page must send back in `x-flotilla-csrf` on every state-changing call. */
  readonly csrf: string;
  readonly expiresAtMs: number;
}

/**
 * The dashboard's sessions: opaque random ids (32 bytes), each with its own CSRF token, ending
 * after `ttlMs`. Kept in memory only, so a restart signs everyone out. Time is passed in.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: SessionOptions = SESSION_DEFAULTS) {}

  /** A new session, made after the admin token was checked. */
  create(nowMs: number): Session {
    this.prune(nowMs);
    while (this.sessions.size >= this.options.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      expiresAtMs: nowMs + this.options.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id; undefined when unknown or expired. */
  get(id: string | undefined, nowMs: number): Session | undefined {
    if (id === undefined) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAtMs <= nowMs) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** Signs a session out. */
  delete(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private prune(nowMs: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAtMs <= nowMs) this.sessions.delete(id);
  }
}
