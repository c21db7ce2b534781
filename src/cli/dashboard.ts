import { type Logger, systemClock } from '../core/index.js';
import type { Fleet } from '../fleet/index.js';
import type { Gateway } from '../gateway/index.js';
import type { ServiceFile } from '../spec/index.js';
import { DASHBOARD_DEFAULTS, Dashboard } from '../ui/index.js';

/** The dashboard's path on the admin listener. */
export const DASHBOARD_PATH = '/_flotilla/ui';

/**
 * Wires the dashboard to a running gateway (and `flotilla up`'s fleet): state, status, latency
 * quantiles from each variant's latency log, and the SLO lines of the service file.
 */
export function dashboardFor(
  gateway: Gateway,
  options: {
    readonly adminToken: string | undefined;
    readonly file: () => ServiceFile;
    readonly fleet?: Fleet;
    /** The dashboard is served over HTTPS (the cookie is `Secure`, the Origin `https://`). */
    readonly secure: boolean;
    readonly logger: Logger;
  },
): Dashboard {
  const fleet = options.fleet;
  return new Dashboard(
    { ...DASHBOARD_DEFAULTS, adminToken: options.adminToken, secureCookie: options.secure },
    {
      clock: systemClock,
      wallNow: () => Date.now(),
      logger: options.logger,
      state: () => gateway.state(),
      ...(fleet ? { status: () => fleet.status() } : {}),
      latency: (service, variant, sinceMs) => {
        const log = gateway.managedVariant(service, variant).latencies;
        const p50Ms = log.quantileSince(sinceMs, 0.5);
        const p99Ms = log.quantileSince(sinceMs, 0.99);
        return { ...(p50Ms !== undefined ? { p50Ms } : {}), ...(p99Ms !== undefined ? { p99Ms } : {}) };
      },
      slo: (service) => options.file().services.find((s) => s.name === service)?.slo,
    },
  );
}
