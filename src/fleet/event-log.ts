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
