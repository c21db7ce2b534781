/** Time as a dependency, so decisions can be tested with a simulated clock. */
export interface Clock {
  /** Milliseconds on a monotonic clock (only differences mean anything). */
  now(): number;
}

/** The process's monotonic clock. */
export const systemClock: Clock = { now: () => performance.now() };

/** Timers as a dependency, so drivers run on simulated time in tests. */
export interface Timers {
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** The process's timers; unref'd, so a pending one never keeps the process alive on its own. */
export const systemTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
