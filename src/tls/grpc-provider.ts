import type { ServerCertificates } from './server-certificates.js';

type CaListener = (update: { caCertificate: Buffer } | null) => void;
type IdentityListener = (update: { certificate: Buffer; privateKey: Buffer } | null) => void;

/**
 * @grpc/grpc-js's `experimental.CertificateProvider`, fed by ServerCertificates: the gRPC server
 * takes the same certificate as the HTTP listener and the same reloads (grpc-js applies each
 * update with `setSecureContext`). Structural, so this module does not load grpc-js.
 *
 * The current certificate goes to a new listener on the next tick, not at once: grpc-js 1.14
 * registers its own watcher only after adding our listener, so an update delivered synchronously
 * reaches no one and the server drops every connection ("credentials not loaded").
 */
export class CertificatesProvider {
  private readonly stops = new Map<CaListener | IdentityListener, () => void>();

  constructor(private readonly certs: ServerCertificates) {}

  addCaCertificateListener(listener: CaListener): void {
    const send = (): void => {
      const ca = this.certs.current.ca;
      listener(ca ? { caCertificate: ca } : null);
    };
    process.nextTick(send);
    this.stops.set(listener, this.certs.onChange(send));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.remove(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    const send = (): void => {
      const m = this.certs.current;
      listener({ certificate: m.cert, privateKey: m.key });
    };
    process.nextTick(send);
    this.stops.set(listener, this.certs.onChange(send));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.remove(listener);
  }

  private remove(listener: CaListener | IdentityListener): void {
    this.stops.get(listener)?.();
    this.stops.delete(listener);
  }
}
