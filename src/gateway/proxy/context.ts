import type { Clock } from '../../core/index.js';

/** What a proxied request needs from the gateway around it. */
export interface ProxyContext {
  readonly clock: Clock;
  /** True while the gateway drains: answers ask clients to close their connections. */
  draining(): boolean;
  /** Counts a retry of a service's request. */
  retried(service: string): void;
}
