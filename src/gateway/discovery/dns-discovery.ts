import type { Clock, Logger, Timers } from '../../core/index.js';
import {
  type DiscoveryState,
  type DiscoveryStatus,
  type DiscoveryTiming,
  decideDiscovery,
  INITIAL_DISCOVERY,
} from './discovery-decision.js';
import { type DnsResolver, resolveAddresses } from './dns-resolver.js';

/** A change to a variant's replica set that discovery asks for. */
export interface DiscoveredChange {
  /** Addresses that join. */
  readonly add: readonly string[];
  /** Addresses to drain. */
  readonly remove: readonly string[];
  /** The whole set after the change (what the variant's replicas should be). */
  readonly addresses: readonly string[];
}

/** Where discovered addresses go (the variant's runtime, through its service). */
export interface DiscoveredReplicas {
  follow(change: DiscoveredChange): void;
}

/** What to resolve and for whom (the names go into log lines). */
export interface DnsDiscoveryOptions {
  readonly service: string;
  readonly variant: string;
  readonly name: string;
  readonly timing: DiscoveryTiming;
}

/** What a discovery loop is built with. */
export interface DnsDiscoveryDeps {
  readonly resolver: DnsResolver;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly replicas: DiscoveredReplicas;
}

/** Discovery's live state, for the admin API (`GET /_flotilla/state`). */
export interface DiscoverySnapshot {
  readonly name: string;
  readonly status: DiscoveryStatus;
  readonly error?: string;
  readonly addresses: readonly string[];
  /** When the last answer came (gateway clock, ms); absent before the first. */
  readonly resolvedAtMs?: number;
  /** When the next resolution is due (gateway clock, ms). */
  readonly nextResolveAtMs?: number;
}

/**
 * The driver of DNS discovery: resolves the name now, then again whenever `decideDiscovery` says,
 * and hands every change to the variant. One resolution at a time; the timer is armed only after
 * an answer, so a slow DNS server delays resolutions instead of piling them up.
 */
export class DnsDiscovery {
  private state: DiscoveryState = INITIAL_DISCOVERY;
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private resolvedAtMs: number | undefined;
  private nextResolveAtMs: number | undefined;

  constructor(
    readonly options: DnsDiscoveryOptions,
    private readonly deps: DnsDiscoveryDeps,
  ) {}

  /** Starts resolving (the first resolution at once). */
  start(): void {
    void this.resolveNow();
  }

  /** Resolves now (or joins the resolution under way); resolves when its answer is applied. */
  resolveNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= this.resolveOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer; an answer still on its way is dropped. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  snapshot(): DiscoverySnapshot {
    return {
      name: this.options.name,
      status: this.state.status,
      ...(this.state.error !== undefined ? { error: this.state.error } : {}),
      addresses: this.state.addresses,
      ...(this.resolvedAtMs !== undefined ? { resolvedAtMs: this.resolvedAtMs } : {}),
      ...(this.nextResolveAtMs !== undefined ? { nextResolveAtMs: this.nextResolveAtMs } : {}),
    };
  }

  private async resolveOnce(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const answer = await resolveAddresses(this.deps.resolver, this.options.name);
    if (this.closed) return;
    const now = this.deps.clock.now();
    const first = this.state.status === 'pending';
    const d = decideDiscovery(this.state, answer, now, this.options.timing);
    this.state = d.state;
    this.resolvedAtMs = now;
    this.nextResolveAtMs = d.nextResolveAtMs;
    const fields = { service: this.options.service, variant: this.options.variant, name: this.options.name };
    // A first answer replaces whatever the variant had (other settings before a reload); a first
    // failure leaves it: the last known set is the one it has.
    if ((first && d.state.status !== 'failed') || d.add.length > 0 || d.remove.length > 0) {
      try {
        this.deps.replicas.follow({ add: d.add, remove: d.remove, addresses: d.state.addresses });
        if (d.add.length > 0 || d.remove.length > 0)
          this.deps.logger.info('replicas discovered', {
            ...fields,
            added: d.add.join(',') || undefined,
            removed: d.remove.join(',') || undefined,
            replicas: d.state.addresses.length,
          });
      } catch (err) {
        // A bad change must not stop discovery: the next answer tries again.
        this.deps.logger.error('discovered replicas not applied', {
          ...fields,
          error: (err as Error).message,
        });
      }
    }
    if (d.statusChanged) this.logStatus(fields);
    this.cancelTimer = this.deps.timers.after(d.nextResolveAtMs - now, () => void this.resolveNow());
  }

  /** One line per change of status, not per resolution (a DNS outage logs once, and its end once). */
  private logStatus(fields: Readonly<Record<string, string>>): void {
    const { status, error, addresses } = this.state;
    if (status === 'failed')
      this.deps.logger.warn('DNS resolution failed: keeping the last known addresses', {
        ...fields,
        error,
        kept: addresses.length,
      });
    else if (status === 'no-addresses')
      this.deps.logger.warn('DNS name has no addresses: the variant has no replicas', fields);
    else this.deps.logger.info('DNS name resolved', { ...fields, replicas: addresses.length });
  }
}
