import { Resolver } from 'node:dns/promises';
import type { DnsAnswer, FamilyAnswer } from './discovery-decision.js';

/** The part of `dns.promises.Resolver` discovery uses (records with their TTL). */
export interface DnsResolver {
  resolve4(name: string, options: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
  resolve6(name: string, options: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
}

/** Where and how patiently to ask; defaults in DNS_RESOLVER_DEFAULTS. */
export interface DnsResolverOptions {
  /** `host:port` or `host` of a DNS server (UDP); undefined: the system's (/etc/resolv.conf). */
  readonly server?: string | undefined;
  /** One try's wait for an answer (milliseconds). */
  readonly timeoutMs?: number;
  /** Tries per query before it fails with ETIMEOUT. */
  readonly tries?: number;
}

/** The defaults of DnsResolverOptions: a dead server costs about 2 s per resolution, not c-ares' 20+. */
export const DNS_RESOLVER_DEFAULTS = Object.freeze({ timeoutMs: 1000, tries: 2 });

/** A Node resolver at the given server (or the system's). Throws on a server that is not an address. */
export function createDnsResolver(options: DnsResolverOptions = {}): DnsResolver {
  const resolver = new Resolver({
    timeout: options.timeoutMs ?? DNS_RESOLVER_DEFAULTS.timeoutMs,
    tries: options.tries ?? DNS_RESOLVER_DEFAULTS.tries,
  });
  if (options.server !== undefined) resolver.setServers([options.server]);
  return resolver;
}

/** Asks for a name's A and AAAA records at once and sorts each answer into records, empty or failed. */
export async function resolveAddresses(resolver: DnsResolver, name: string): Promise<DnsAnswer> {
  const [v4, v6] = await Promise.all([
    family(resolver.resolve4(name, { ttl: true })),
    family(resolver.resolve6(name, { ttl: true })),
  ]);
  return { v4, v6 };
}

async function family(query: Promise<{ address: string; ttl: number }[]>): Promise<FamilyAnswer> {
  try {
    const records = await query;
    return records.length > 0 ? { kind: 'records', records } : { kind: 'empty' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    // NODATA: the name is there without records of this family — an answer, not a failure.
    return code === 'ENODATA' ? { kind: 'empty' } : { kind: 'failed', code };
  }
}
