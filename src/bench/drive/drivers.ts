import type { Clock, Random } from '../../core/index.js';
import { type Distribution, SendSchedule } from '../plan/schedule.js';
import type { Sender } from './sender.js';

/** A load pattern. Drivers own their timers; the runner owns the windows. */
export interface Driver {
  start(): void;
  /** Resolves when the driver has nothing more to send by itself (its request budget is spent). */
  readonly done: Promise<void>;
  /** Stops sending and resolves once every request sent has finished. */
  stop(): Promise<void>;
}

/** Options of {@link ClosedLoopDriver}. */
export interface ClosedLoopDriverOptions {
  /** Users, each sending its next request when the last one finished. */
  readonly users: number;
  /** Requests to send in all, shared by the users; unbounded when absent. */
  readonly requests?: number;
  /** Users started per second (locust's spawn rate); all at once when absent. */
  readonly spawnRate?: number;
}

/**
 * perf_analyzer's concurrency mode and locust's users: `users` loops of send-wait-send. With a
 * spawn rate, user i starts i/spawnRate seconds in.
 */
export class ClosedLoopDriver implements Driver {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private stopped = false;
  private running = 0;
  private started = 0;
  private remaining: number;
  private spawnTimer: NodeJS.Timeout | undefined;
  private resolveStopped: (() => void) | undefined;

  constructor(
    private readonly options: ClosedLoopDriverOptions,
    private readonly deps: { readonly sender: Sender; readonly clock: Clock },
  ) {
    this.remaining = options.requests ?? Number.POSITIVE_INFINITY;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  start(): void {
    const rate = this.options.spawnRate;
    if (rate === undefined) {
      for (let i = 0; i < this.options.users; i++) this.spawn();
      return;
    }
    this.spawn();
    this.spawnTimer = setInterval(() => {
      if (this.started >= this.options.users || this.stopped) return clearInterval(this.spawnTimer);
      this.spawn();
    }, 1000 / rate);
  }

  private spawn(): void {
    this.started++;
    this.running++;
    this.loop();
  }

  private readonly loop = (): void => {
    if (this.stopped || this.remaining <= 0) {
      this.running--;
      if (this.running === 0) this.allStopped();
      return;
    }
    this.remaining--;
    this.deps.sender.send(this.deps.clock.now(), this.loop);
  };

  private allStopped(): void {
    // Users only end when stopped or when the budget is spent, so this is the end of the budget.
    if (this.remaining <= 0) {
      clearInterval(this.spawnTimer);
      this.resolveDone();
    }
    this.resolveStopped?.();
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.spawnTimer);
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.resolveStopped = resolve));
  }
}

/** Options of {@link OpenLoopDriver}. */
export interface OpenLoopDriverOptions {
  /** Requests per second. */
  readonly rate: number;
  readonly distribution: Distribution;
  /** More requests than this in flight are refused and counted as errors (memory stays bounded). */
  readonly maxInFlight: number;
}

/**
 * perf_analyzer's request-rate mode: requests leave on a schedule that never looks at answers.
 * A late timer sends everything that is due at once, each timed from its intended moment.
 */
export class OpenLoopDriver implements Driver {
  /** An open loop never runs out by itself. */
  readonly done: Promise<void> = new Promise(() => {});
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private schedule: SendSchedule | undefined;
  private nextAt = 0;

  constructor(
    private readonly options: OpenLoopDriverOptions,
    private readonly deps: { readonly sender: Sender; readonly clock: Clock; readonly random: Random },
  ) {}

  start(): void {
    const { rate, distribution } = this.options;
    this.schedule = new SendSchedule(this.deps.clock.now(), rate, distribution, this.deps.random);
    this.nextAt = this.schedule.next();
    this.tick();
  }

  private readonly tick = (): void => {
    const { sender, clock } = this.deps;
    const now = clock.now();
    while (this.nextAt <= now && !this.stopped) {
      if (sender.inFlight >= this.options.maxInFlight)
        sender.refuse(
          this.nextAt,
          `client: ${this.options.maxInFlight} requests already in flight (--max-in-flight)`,
        );
      else sender.send(this.nextAt);
      this.nextAt = this.schedule!.next();
    }
    if (!this.stopped) this.timer = setTimeout(this.tick, Math.max(0, this.nextAt - clock.now()));
  };

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.deps.sender.idle();
  }
}
