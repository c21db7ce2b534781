import type { Logger } from '../../core/index.js';
import type { HealthCheckSpec } from '../../spec/index.js';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import { applyCheck } from './health-state.js';

/** The replicas to check and what to do when one's health flips. */
export interface HealthTargets {
  replicas(): Iterable<ReplicaRuntime>;
  changed(replica: ReplicaRuntime): void;
}

/**
 * Active health checks (the driver: it owns the timer and the I/O; `applyCheck` decides). Every
 * interval each replica gets `GET <path>` over its own keep-alive pool; 200 within the timeout is
 * a pass, anything else a failure.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly checking = new Set<ReplicaRuntime>();

  constructor(
    private readonly spec: HealthCheckSpec,
    private readonly targets: HealthTargets,
    private readonly logger: Logger,
    private readonly service: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.round(), this.spec.intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * One round of checks (exposed so tests and start-up need not wait an interval); given replicas,
   * only those (new ones, checked at once rather than an interval later).
   */
  round(replicas: Iterable<ReplicaRuntime> = this.targets.replicas()): void {
    for (const r of replicas) {
      // A check still waiting for its answer is not doubled up by the next round.
      if (this.checking.has(r) || r.retired) continue;
      this.checking.add(r);
      void this.check(r).finally(() => this.checking.delete(r));
    }
  }

  private async check(r: ReplicaRuntime): Promise<void> {
    let ok = false;
    let error: string | undefined;
    try {
      const res = await r.pool.request({
        path: this.spec.path,
        method: 'GET',
        headersTimeout: this.spec.timeoutMs,
        bodyTimeout: this.spec.timeoutMs,
      });
      await res.body.dump();
      ok = res.statusCode === 200;
      if (!ok) error = `HTTP ${res.statusCode}`;
    } catch (err) {
      error = (err as Error).message;
    }
    if (r.retired) return;
    if (applyCheck(r.health, ok, this.spec, error)) {
      const fields = { service: this.service, replica: r.id, path: this.spec.path, error };
      if (r.health.healthy) this.logger.info('replica healthy', fields);
      else this.logger.warn('replica unhealthy', fields);
      this.targets.changed(r);
    }
  }
}
