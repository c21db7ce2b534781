/**
 * Load balancing without a server: balancers, the weighted traffic split, hashing, outlier
 * detection and the retry policy and budget. Pure pieces the gateway and the client library both
 * import, so the client loads no gateway code.
 */
export {
  type Balancer,
  type BalancerReplica,
  balancerReplica,
  candidates,
  type Outcome,
  type PickOptions,
} from './balancer.js';
export { combineHashes, fmix32, hash32, rendezvousPick, unitInterval } from './hash.js';
export { LeastRequestBalancer, type LeastRequestOptions } from './least-request-balancer.js';
export { type Ejection, type EjectionReason, OutlierDetector } from './outlier-detector.js';
export { RetryBudget } from './retry-budget.js';
export {
  chargesRetryBudget,
  claimRetry,
  isRetryable,
  isRetryableStatus,
  type RetryContext,
  shouldRetry,
} from './retry-policy.js';
export { RoundRobinBalancer } from './round-robin-balancer.js';
export {
  checkWeights,
  pickWeighted,
  type SplitDecision,
  type SplitReason,
  type SplitRequest,
  type SplitVariant,
  shouldMirror,
  splitTraffic,
} from './traffic-split.js';
