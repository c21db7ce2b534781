/** What one window saw of the endpoint that was active. */
export interface EndpointWindow {
  /** Requests answered (or failed) by the active endpoint in the window. */
  readonly requests: number;
  /** Of those, answered over the latency threshold or failed. */
  readonly violations: number;
}

/** The SLO and the endpoints to move between (seed 003's change_server). */
export interface SloPolicy {
  /** Largest violation rate (0..1) a window may have before switching. */
  readonly maxViolationRate: number;
  /** Number of endpoints; switching needs at least two. */
  readonly endpoints: number;
}

/** What to do after a window: stay, or move to endpoint `to`. */
export type SloDecision =
  | { readonly switch: false; readonly violationRate: number }
  | { readonly switch: true; readonly violationRate: number; readonly to: number };

/**
 * Decides after each window whether to leave the active endpoint: when its violation rate in the
 * window is over the maximum, the next endpoint (wrapping around) takes the load. A window with no
 * request to the active endpoint says nothing, so it never switches.
 */
export function decideSwitch(window: EndpointWindow, active: number, policy: SloPolicy): SloDecision {
  const violationRate = window.requests === 0 ? 0 : window.violations / window.requests;
  if (policy.endpoints < 2 || window.requests === 0 || violationRate <= policy.maxViolationRate) {
    return { switch: false, violationRate };
  }
  return { switch: true, violationRate, to: (active + 1) % policy.endpoints };
}
