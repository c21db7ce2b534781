export * from './activator/activator.js';
export * from './admin/admin-routes.js';
export * from './balancing/index.js';
export {
  type DiscoveryDecision,
  type DiscoveryState,
  type DiscoveryStatus,
  type DiscoveryTiming,
  type DnsAnswer,
  decideDiscovery,
  type FamilyAnswer,
  INITIAL_DISCOVERY,
} from './discovery/discovery-decision.js';
export {
  type DiscoveredChange,
  type DiscoveredReplicas,
  type DiscoverySnapshot,
  DnsDiscovery,
  type DnsDiscoveryDeps,
  type DnsDiscoveryOptions,
} from './discovery/dns-discovery.js';
export {
  createDnsResolver,
  DNS_RESOLVER_DEFAULTS,
  type DnsResolver,
  type DnsResolverOptions,
  resolveAddresses,
} from './discovery/dns-resolver.js';
export * from './errors.js';
export * from './gateway.js';
export * from './gateway-state.js';
export * from './health/health-state.js';
export * from './health/outlier-detector.js';
export * from './retry/retry-budget.js';
export * from './retry/retry-policy.js';
export * from './routing/hash.js';
export * from './routing/protocol-paths.js';
export * from './routing/routing-table.js';
export * from './routing/traffic-split.js';
export type { ReplicaAddress, ReplicaRuntime } from './runtime/replica-runtime.js';
