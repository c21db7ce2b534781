import type { InferRequest, InferResponse } from '../core/index.js';
import { type Random, systemRandom } from '../core/index.js';
import {
  type BalancerReplica,
  balancerReplica,
  hash32,
  LeastRequestBalancer,
  type Outcome,
  type SplitVariant,
  splitTraffic,
} from '../lb/index.js';
import type { EncodeRequestOptions } from '../protocol/oip-rest/index.js';
import { formatAddress, parseEndpoints, type ServiceSpec } from '../spec/index.js';
import { OipHttpClient, OipHttpError } from './oip-http-client.js';

/** A variant as the client is given it: Paddle's `variants { tag, naming_conf { cluster } }`. */
export interface ClientVariant {
  readonly tag: string;
  /** Relative traffic weight (default 1). */
  readonly weight?: number;
  /** `"list://127.0.0.1:8010, 127.0.0.1:8011"` or a list of `host:port`. */
  readonly endpoints: string | readonly string[];
  /** The model name at these replicas, when it differs from the request's. */
  readonly modelName?: string;
  /** The version to ask for when the request names none. */
  readonly modelVersion?: string;
}

/** Options of the routing client. */
export interface RoutingClientOptions {
  readonly variants: readonly ClientVariant[];
  /** Connections kept per replica. Default 8. */
  readonly connectionsPerReplica?: number;
  /** Tries on another replica after a connection error or a 502/503. Default 1. */
  readonly maxRetries?: number;
}

/** Per-call steering, as the gateway's headers do. */
export interface RouteOptions {
  /** Sticky key: the same key goes to the same variant while weights are unchanged. */
  readonly key?: string;
  /** Forces a variant by tag. */
  readonly variant?: string;
  readonly encoding?: EncodeRequestOptions;
}

/** An answer and who gave it (Paddle's client logs the tag that served each call). */
export interface RoutedResponse {
  readonly response: InferResponse;
  readonly variant: string;
  readonly replica: string;
}

interface ClientReplica extends BalancerReplica {
  readonly client: OipHttpClient;
}

interface Variant extends SplitVariant {
  readonly spec: ClientVariant;
  readonly replicas: readonly ClientReplica[];
  readonly balancer: LeastRequestBalancer<ClientReplica>;
}

/**
 * A typed OIP v2 client that routes on the client side, as Paddle Serving's client does: a variant
 * by weight (or sticky key, or forced tag), then a replica by least requests in flight (power of
 * two choices), retrying refused connections and 502/503 on another replica. It runs the same pure
 * routing and balancing code as the gateway.
 */
export class RoutingClient {
  private readonly variants: Variant[];

  constructor(
    private readonly options: RoutingClientOptions,
    private readonly deps: { readonly random?: Random } = {},
  ) {
    const random = deps.random ?? systemRandom;
    this.variants = options.variants.map((spec) => {
      const replicas = parseEndpoints(spec.endpoints).map((a) => {
        const id = formatAddress(a);
        return {
          ...balancerReplica(id),
          client: new OipHttpClient({
            baseUrl: `http://${id}`,
            connections: options.connectionsPerReplica ?? 8,
          }),
        };
      });
      const balancer = new LeastRequestBalancer<ClientReplica>({}, { random });
      balancer.update(replicas);
      return { tag: spec.tag, tagHash: hash32(spec.tag), weight: spec.weight ?? 1, spec, replicas, balancer };
    });
  }

  /** A client for a service of a service file (its `endpoints:` variants). */
  static forService(
    service: ServiceSpec,
    options: Omit<RoutingClientOptions, 'variants'> = {},
    deps: { readonly random?: Random } = {},
  ): RoutingClient {
    const variants = service.variants.flatMap((v) =>
      v.runs.kind === 'endpoints'
        ? [
            {
              tag: v.tag,
              weight: v.weight,
              endpoints: v.runs.endpoints.map(formatAddress),
              modelName: v.modelName,
              ...(v.modelVersion !== undefined ? { modelVersion: v.modelVersion } : {}),
            },
          ]
        : [],
    );
    return new RoutingClient({ ...options, variants }, deps);
  }

  /** Sends one inference to a variant's replica chosen as the gateway would. */
  async infer(req: InferRequest, route: RouteOptions = {}): Promise<RoutedResponse> {
    const split = splitTraffic(
      this.variants,
      { forcedTag: route.variant, keyHash: route.key === undefined ? undefined : hash32(route.key) },
      this.deps.random ?? systemRandom,
    );
    if (split.kind === 'unknown-tag')
      throw new Error(
        `no variant tagged ${split.tag}; variants: ${this.variants.map((v) => v.tag).join(', ')}`,
      );
    if (split.kind === 'no-weight') throw new Error('every variant has weight 0');
    const v = split.variant;
    const version = req.version ?? v.spec.modelVersion;
    const sent: InferRequest = {
      ...req,
      model: v.spec.modelName ?? req.model,
      ...(version !== undefined ? { version } : {}),
    };
    const attempted: ClientReplica[] = [];
    for (let attempt = 0; ; attempt++) {
      const replica = v.balancer.pick({ attempted });
      if (!replica) throw new Error(`variant ${v.tag} has no replica`);
      const started = performance.now();
      try {
        const response = await replica.client.infer(sent, route.encoding);
        v.balancer.report(replica, { kind: 'response', status: 200, latencyMs: performance.now() - started });
        return { response, variant: v.tag, replica: replica.id };
      } catch (err) {
        const outcome = outcomeOf(err, performance.now() - started);
        v.balancer.report(replica, outcome);
        const retryable = outcome.kind !== 'response' || outcome.status === 502 || outcome.status === 503;
        if (!retryable || attempt >= (this.options.maxRetries ?? 1)) throw err;
        attempted.push(replica);
      }
    }
  }

  /** Requests in flight per variant and replica (what the client balances on). */
  load(): { variant: string; replicas: { id: string; active: number }[] }[] {
    return this.variants.map((v) => ({
      variant: v.tag,
      replicas: v.replicas.map((r) => ({ id: r.id, active: r.active })),
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.variants.flatMap((v) => v.replicas.map((r) => r.client.close())));
  }
}

function outcomeOf(err: unknown, latencyMs: number): Outcome {
  if (err instanceof OipHttpError) return { kind: 'response', status: err.status, latencyMs };
  const code = (err as { code?: string }).code;
  return { kind: code === 'ECONNREFUSED' ? 'connect-error' : 'reset', latencyMs };
}
