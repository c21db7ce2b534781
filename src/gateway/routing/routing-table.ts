import { findModelSegment, type ModelSegment } from './protocol-paths.js';

/** What the table needs of a service: its name, hosts and path prefix. */
export interface RoutableService {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly path?: string | undefined;
}

/** How a request was matched to its service. */
export type RouteBy = 'host' | 'path' | 'model';

/** A request's service, the path to send on (prefix removed) and the model name's place in it. */
export interface RouteMatch<S> {
  readonly service: S;
  readonly by: RouteBy;
  /** The path after the service's prefix, without the query string. */
  readonly path: string;
  /** Where the service's own name sits in `path`, to be replaced by the variant's model name. */
  readonly model: ModelSegment | undefined;
}

/**
 * Host and path routing, as Envoy's virtual hosts and routes: a Host header match wins (longest
 * path prefix first among that host's services), then a path prefix on services without a host,
 * then the model name in a protocol path (`/v2/models/{service}/…`). Immutable: a reload builds a
 * new table and swaps it in.
 */
export class RoutingTable<S extends RoutableService> {
  private readonly byHost = new Map<string, S[]>();
  private readonly byPrefix: S[];
  private readonly byName = new Map<string, S>();

  constructor(readonly services: readonly S[]) {
    const longestFirst = (a: S, b: S): number => (b.path?.length ?? 0) - (a.path?.length ?? 0);
    for (const s of services) {
      this.byName.set(s.name, s);
      for (const h of s.hosts) this.byHost.set(h, [...(this.byHost.get(h) ?? []), s].sort(longestFirst));
    }
    this.byPrefix = services.filter((s) => s.hosts.length === 0 && s.path !== undefined).sort(longestFirst);
  }

  /** The service of a name. */
  get(name: string): S | undefined {
    return this.byName.get(name);
  }

  /** Service names, in file order (for 404 messages and the admin API). */
  names(): string[] {
    return this.services.map((s) => s.name);
  }

  /** Matches a request by Host header and path (no query string); undefined: no service. */
  route(host: string | undefined, path: string): RouteMatch<S> | undefined {
    if (this.byHost.size > 0 && host !== undefined) {
      const candidates = this.byHost.get(hostname(host));
      if (candidates) {
        for (const s of candidates) {
          const rest = s.path === undefined ? path : stripPrefix(path, s.path);
          if (rest !== undefined) return this.match(s, 'host', rest);
        }
      }
    }
    for (const s of this.byPrefix) {
      const rest = stripPrefix(path, s.path!);
      if (rest !== undefined) return this.match(s, 'path', rest);
    }
    const seg = findModelSegment(path);
    const s = seg && this.byName.get(seg.name);
    return s ? { service: s, by: 'model', path, model: seg } : undefined;
  }

  private match(service: S, by: RouteBy, path: string): RouteMatch<S> {
    const seg = findModelSegment(path);
    // Under a host or prefix the path may name any model; only the service's own name is replaced.
    return { service, by, path, model: seg?.name === service.name ? seg : undefined };
  }
}

/** The Host header's name, lower-cased, without a port. */
export function hostname(host: string): string {
  const h = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0]!;
  return h.toLowerCase();
}

/** The path below `prefix` (`/` if nothing is left), or undefined if it is not below it. */
function stripPrefix(path: string, prefix: string): string | undefined {
  if (!path.startsWith(prefix)) return undefined;
  if (path.length === prefix.length) return '/';
  return path.charCodeAt(prefix.length) === 47 ? path.slice(prefix.length) : undefined;
}
