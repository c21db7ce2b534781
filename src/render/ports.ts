import { RENDER_DEFAULTS } from './options.js';

/** A model server's ports in a rendered pod, and the `flotilla serve` flags that open them. */
export interface ServerPorts {
  /** The container's `ports`. */
  readonly ports: readonly Readonly<Record<string, string | number>>[];
  /** `flotilla serve` flags: the address and the port(s). */
  readonly args: readonly string[];
  /** Where REST (and /metrics, the health paths) answers. */
  readonly httpPort: number;
  /** Where gRPC answers: the same port when there is one. */
  readonly grpcPort: number;
}

/**
 * The one place every target takes a model server's ports from.
 *
 * One port (Knative, KServe): a revision exposes exactly one container port. It is named `h2c`,
 * so Knative's queue-proxy speaks HTTP/2 to the container for every request: gRPC works end to
 * end, and REST arrives over HTTP/2 too, which `flotilla serve --port` answers with the same routes
 * (it tells HTTP/1.1 from HTTP/2 by the connection preface, so the kubelet's HTTP/1.1 probes and
 * Prometheus's scrapes are answered as well). Named `http1`, gRPC could not reach the pod at all.
 *
 * Two ports (plain Kubernetes): HTTP and gRPC each on their own, as `flotilla serve` opens them
 * by default; the gateway and Services name both.
 */
export function modelServerPorts(onePort: boolean): ServerPorts {
  const d = RENDER_DEFAULTS;
  if (onePort) {
    return {
      ports: [{ containerPort: d.httpPort, name: 'h2c', protocol: 'TCP' }],
      args: ['--host', '0.0.0.0', '--port', String(d.httpPort)],
      httpPort: d.httpPort,
      grpcPort: d.httpPort,
    };
  }
  return {
    ports: [
      { containerPort: d.httpPort, name: 'http', protocol: 'TCP' },
      { containerPort: d.grpcPort, name: 'grpc', protocol: 'TCP' },
    ],
    args: ['--host', '0.0.0.0', '--http-port', String(d.httpPort), '--grpc-port', String(d.grpcPort)],
    httpPort: d.httpPort,
    grpcPort: d.grpcPort,
  };
}
