export * from './activator/activator.js';
export * from './admin/admin-routes.js';
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
export * from './routing/protocol-paths.js';
export * from './routing/routing-table.js';
export type { ReplicaAddress, ReplicaRuntime } from './runtime/replica-runtime.js';
