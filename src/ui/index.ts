export {
  CONTENT_SECURITY_POLICY,
  CSRF_HEADER,
  cookieValue,
  DASHBOARD_DEFAULTS,
  Dashboard,
  type DashboardDeps,
  type DashboardOptions,
  SESSION_COOKIE,
  sameOrigin,
} from './dashboard.js';
export {
  buildFrame,
  countersOf,
  type DashboardFrame,
  type FrameCounters,
  type FrameInputs,
  type HistoryPoint,
  historyPoint,
  type ReplicaFrame,
  type ServiceFrame,
  type SloLines,
  type VariantFrame,
} from './frame.js';
export { HistoryRing } from './history-ring.js';
export { SESSION_DEFAULTS, type Session, type SessionOptions, SessionStore } from './session-store.js';
export { readText, STATIC_DIR, UPLOT_FILES } from './static-assets.js';
