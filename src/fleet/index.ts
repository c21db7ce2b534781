export { CAPACITY_DEFAULTS, type Machine, scaleLimit } from './capacity.js';
export {
  FLEET_DEFAULTS,
  Fleet,
  type FleetDeps,
  type FleetGateway,
  type FleetOptions,
  type FleetTimers,
  type ManagedVariant,
} from './fleet.js';
export * from './status.js';
