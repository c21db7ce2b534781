import { readFile } from 'node:fs/promises';
import type { Random } from '../core/index.js';
import { ConfigError } from '../core/index.js';
import type { ReplicaRuntime } from '../gateway/index.js';
import { type Balancer, LeastRequestBalancer, RoundRobinBalancer } from '../lb/index.js';
import {
  isPrototxtFile,
  parsePredictorsPrototxt,
  parseServiceYaml,
  type ServiceFile,
  type ServiceSpec,
} from '../spec/index.js';

/**
 * Reads and validates a service file: Flotilla's, ElasticServing's PaddleService, or (by its
 * extension, `.prototxt` and the other text-format names) Paddle Serving's predictors.prototxt.
 */
export async function readServiceFile(path: string): Promise<ServiceFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read the service file: ${(err as Error).message}`, { cause: err });
  }
  return isPrototxtFile(path) ? parsePredictorsPrototxt(text, path) : parseServiceYaml(text, path);
}

/** The gateway's balancer of each policy (`flotilla gateway` and `flotilla up` build the same). */
export function balancerFactory(
  random: Random,
): (policy: ServiceSpec['balancer']) => Balancer<ReplicaRuntime> {
  return (policy) =>
    policy === 'round_robin'
      ? new RoundRobinBalancer<ReplicaRuntime>()
      : new LeastRequestBalancer<ReplicaRuntime>({}, { random });
}
