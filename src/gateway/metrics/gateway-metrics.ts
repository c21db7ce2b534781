import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';

/** Buckets (seconds) from 250 µs to 30 s: proxying overhead up to slow models. */
const BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Labels = 'service' | 'variant' | 'replica';

/** Where the counters live: read at scrape time, so the data plane only bumps plain numbers. */
export interface MetricsSource {
  variants(): Iterable<VariantRuntime>;
}

/**
 * Prometheus metrics of one gateway (its own registry): requests, errors, in-flight and a latency
 * histogram per service, variant and replica; retries per service. Counters and gauges are
 * collected from the runtime objects at scrape time; only the histogram is observed per request.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<Labels>;
  private readonly retries: Counter<'service'>;

  constructor(source: MetricsSource, options: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const labelNames = ['service', 'variant', 'replica'] as const;
    const perReplica = (read: (r: ReplicaRuntime, v: VariantRuntime) => number) =>
      function (this: Counter<Labels> | Gauge<Labels>): void {
        this.reset();
        for (const v of source.variants()) {
          for (const r of v.replicas) {
            const value = read(r, v);
            const labels = { service: v.service, variant: v.tag, replica: r.id };
            if (this instanceof Gauge) this.set(labels, value);
            else this.inc(labels, value);
          }
        }
      };
    new Counter({
      name: 'flotilla_gateway_requests_total',
      help: 'Requests answered through a replica (the last try), by service, variant and replica.',
      labelNames,
      registers,
      collect: perReplica((r) => r.requests),
    });
    new Counter({
      name: 'flotilla_gateway_errors_total',
      help: 'Requests whose answer was a 5xx or no answer at all, by the replica of the last try.',
      labelNames,
      registers,
      collect: perReplica((r) => r.errors),
    });
    new Gauge({
      name: 'flotilla_gateway_requests_in_flight',
      help: 'Tries in flight on each replica.',
      labelNames,
      registers,
      collect: perReplica((r) => r.active),
    });
    new Gauge({
      name: 'flotilla_gateway_replica_available',
      help: '1 while a replica is healthy and not ejected.',
      labelNames,
      registers,
      collect: perReplica((r) => (r.available ? 1 : 0)),
    });
    new Gauge({
      name: 'flotilla_gateway_variant_in_flight',
      help: 'Requests in flight per variant (what the autoscaler reads).',
      labelNames: ['service', 'variant'],
      registers,
      collect(this: Gauge<'service' | 'variant'>) {
        this.reset();
        for (const v of source.variants()) this.set({ service: v.service, variant: v.tag }, v.inflight);
      },
    });
    new Gauge({
      name: 'flotilla_gateway_variant_weight',
      help: 'Traffic weight of each variant.',
      labelNames: ['service', 'variant'],
      registers,
      collect(this: Gauge<'service' | 'variant'>) {
        this.reset();
        for (const v of source.variants()) this.set({ service: v.service, variant: v.tag }, v.weight);
      },
    });
    this.latency = new Histogram({
      name: 'flotilla_gateway_request_duration_seconds',
      help: 'Time from a request reaching the gateway to the end of its answer, retries included.',
      labelNames,
      buckets: BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'flotilla_gateway_retries_total',
      help: 'Tries made again on another replica.',
      labelNames: ['service'],
      registers,
    });
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'flotilla_gateway_' });
  }

  /** Binds a replica's histogram child (joined) or removes its series (left). */
  replica(v: VariantRuntime, r: ReplicaRuntime, joined: boolean): void {
    const labels = { service: v.service, variant: v.tag, replica: r.id };
    if (joined) r.latency = this.latency.labels(labels);
    else this.latency.remove(labels);
  }

  retried(service: string): void {
    this.retries.inc({ service });
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
