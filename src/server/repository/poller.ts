/**
 * Rescans the repository on a fixed interval. The timer lives here so the manager's decisions
 * stay free of clocks; a scan that outlasts the interval delays the next one instead of overlapping.
 */
export class RepositoryPoller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly scan: () => Promise<void>,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.stopped) return;
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.scan()
          .catch(() => undefined)
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
