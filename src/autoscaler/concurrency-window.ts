/**
 * Snapshots of a concurrency integral taken on every autoscaler tick, from which the stable and
 * panic window averages are read. Older snapshots than the longest window are dropped.
 */
export class ConcurrencyWindow {
  private readonly samples: { readonly at: number; readonly integral: number }[] = [];

  constructor(private readonly keepMs: number) {}

  record(at: number, integral: number): void {
    this.samples.push({ at, integral });
    // Keep one sample at or before the window start so a full window can always be measured.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.keepMs) this.samples.shift();
  }

  /**
   * Average concurrency over the last `windowMs` before `now` (or over what has been recorded,
   * when less): undefined until two samples exist — no data is not zero load.
   */
  average(now: number, windowMs: number): number | undefined {
    const last = this.samples[this.samples.length - 1];
    if (!last || this.samples.length < 2) return undefined;
    const from = now - windowMs;
    let start = this.samples[0]!;
    for (const s of this.samples) {
      if (s.at <= from) start = s;
      else break;
    }
    const span = last.at - start.at;
    return span > 0 ? (last.integral - start.integral) / span : undefined;
  }
}
