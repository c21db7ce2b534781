/**
 * How long a client may take to send a request: a head must be complete within `headerTimeoutMs`
 * of its first byte (nginx `client_header_timeout`, Node's `headersTimeout`), and a body must keep
 * arriving — within `bodyTimeoutMs` of its start plus one second per `bodyMinRate` bytes received
 * (Apache mod_reqtimeout's `body=20,MinRate=500`). An idle keep-alive connection has no deadline
 * here (the socket's idle timeout closes it); a request being answered has none either.
 */

/** The limits, in milliseconds and bytes per second. */
export interface ReadDeadlines {
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Each this many body bytes received extend the body's deadline by one second. */
  readonly bodyMinRate: number;
}

/**
 * The defaults: 20 s for a head, as Apache's mod_reqtimeout (a real head is a few hundred bytes and
 * arrives in one round trip; nginx's and Node's 60 s let a slowloris hold 3× as many sockets for
 * the same rate of new connections); 20 s plus 1 s per 500 bytes for a body, the same, so a body
 * trickling below 500 B/s is cut while any real client, even on a poor mobile link, gets through.
 */
export const READ_DEADLINE_DEFAULTS: ReadDeadlines = Object.freeze({
  headerTimeoutMs: 20_000,
  bodyTimeoutMs: 20_000,
  bodyMinRate: 500,
});

/** Where a connection is in reading its request. */
export type ReadProgress =
  | { readonly kind: 'idle' }
  /** Part of a head is here; its first byte came at `since`. */
  | { readonly kind: 'head'; readonly since: number }
  /** The head is complete and `received` body bytes of the rest have come since `since`. */
  | { readonly kind: 'body'; readonly since: number; readonly received: number };

/** Which deadline a connection has passed at `now`, if any (a pure decision: no clock inside). */
export function readOverdue(
  progress: ReadProgress,
  now: number,
  limits: ReadDeadlines,
): 'head' | 'body' | undefined {
  switch (progress.kind) {
    case 'idle':
      return undefined;
    case 'head':
      return now - progress.since > limits.headerTimeoutMs ? 'head' : undefined;
    case 'body': {
      const allowed = limits.bodyTimeoutMs + (progress.received * 1000) / limits.bodyMinRate;
      return now - progress.since > allowed ? 'body' : undefined;
    }
  }
}

/** How often connections are checked: a quarter of the shortest deadline, within 50 ms – 1 s. */
export function sweepIntervalMs(limits: ReadDeadlines): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headerTimeoutMs, limits.bodyTimeoutMs) / 4)));
}

/** A connection the sweeper watches. */
export interface Watched {
  readProgress(): ReadProgress;
  /** The deadline `which` passed: answer 408 and close. */
  overdue(which: 'head' | 'body'): void;
}

/** Timers, injected so tests can drive a sweeper by hand. */
export interface SweepTimers {
  every(ms: number, fn: () => void): () => void;
}

/** Real timers; the interval does not keep the process alive. */
export const REAL_SWEEP_TIMERS: SweepTimers = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};

/**
 * Checks every watched connection against the deadlines on one shared interval (as node:http's
 * `connectionsCheckingInterval`), rather than a timer per connection re-armed at every byte.
 */
export class DeadlineSweeper {
  private readonly conns = new Set<Watched>();
  private stop: (() => void) | undefined;

  constructor(
    readonly limits: ReadDeadlines,
    private readonly now: () => number,
    private readonly timers: SweepTimers = REAL_SWEEP_TIMERS,
  ) {}

  add(conn: Watched): void {
    this.conns.add(conn);
    this.stop ??= this.timers.every(sweepIntervalMs(this.limits), () => this.sweep());
  }

  delete(conn: Watched): void {
    this.conns.delete(conn);
  }

  /** Cuts every connection past a deadline now. */
  sweep(): void {
    const now = this.now();
    for (const c of this.conns) {
      const which = readOverdue(c.readProgress(), now, this.limits);
      if (which !== undefined) {
        this.conns.delete(c);
        c.overdue(which);
      }
    }
  }

  close(): void {
    this.stop?.();
    this.stop = undefined;
    this.conns.clear();
  }
}
