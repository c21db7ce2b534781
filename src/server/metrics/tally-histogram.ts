import type { Metric, Registry } from 'prom-client';

/** One sample line as prom-client's registry renders it. */
interface SampleLine {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/** One label set's observations: cumulative-ready bucket counts, sum and count. */
export class HistogramTally {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/**
 * A Prometheus histogram whose hot path is a few additions on plain numbers: prom-client's own
 * `observe` hashes the label set on every call, which cost more per request than a small model's
 * inference. prom-client still renders it: it registers as one of the registry's metrics.
 */
export class TallyHistogram {
  private readonly tallies = new Map<string, { labels: Record<string, string>; tally: HistogramTally }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The registry only calls get() and reset() of what it holds, which this class provides.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The tally of one label set, to keep and observe into. */
  labels(labels: Record<string, string>): HistogramTally {
    const key = JSON.stringify(labels);
    let entry = this.tallies.get(key);
    if (!entry) {
      entry = { labels, tally: new HistogramTally(this.bounds) };
      this.tallies.set(key, entry);
    }
    return entry.tally;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: SampleLine[];
    aggregator: 'sum';
  }> {
    const values: SampleLine[] = [];
    for (const { labels, tally } of this.tallies.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += tally.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', ...labels },
        value: tally.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels, value: tally.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: tally.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  reset(): void {
    this.tallies.clear();
  }
}
