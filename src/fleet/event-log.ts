import type { Clock, Logger } from '../core/index.js';
import type { FleetEvent } from './status.js';

/** The last `size` fleet decisions, oldest first (what `flotilla status` shows). */
export class EventLog {
  private readonly events: FleetEvent[] = [];

  constructor(private readonly size = 100) {}

  push(event: FleetEvent): void {
    this.events.push(event);
    if (this.events.length > this.size) this.events.shift();
  }

  list(): readonly FleetEvent[] {
    return [...this.events];
  }
}

/** Keeps fleet decisions for `flotilla status` and logs each one with its numbers. */
export class DecisionRecorder {
  private readonly log = new EventLog();

  constructor(private readonly deps: { readonly logger: Logger; readonly wallClock: Clock }) {}

  /** Records one decision (kept and logged). */
  record(
    kind: FleetEvent['kind'],
    service: string,
    variant: string | undefined,
    message: string,
    numbers: Readonly<Record<string, number | boolean>> = {},
  ): void {
    this.log.push({
      atMs: this.deps.wallClock.now(),
      kind,
      service,
      ...(variant !== undefined ? { variant } : {}),
      message,
    });
    this.deps.logger.info(kind === 'replica' ? 'replica' : `${kind} decision`, {
      service,
      ...(variant !== undefined ? { variant } : {}),
      ...numbers,
      decision: message,
    });
  }

  list(): readonly FleetEvent[] {
    return this.log.list();
  }
}
