import { connect } from 'node:tls';

/**
 * Opens a new TLS connection and resolves with the SHA-256 fingerprint of the certificate the
 * server presented (`alpn` picks h2 for gRPC listeners); rejects when the handshake fails.
 */
export function peerFingerprint(
  address: { readonly host: string; readonly port: number },
  options: { readonly ca: Buffer; readonly alpn?: string; readonly cert?: Buffer; readonly key?: Buffer },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: address.host,
      port: address.port,
      ca: options.ca,
      ALPNProtocols: [options.alpn ?? 'http/1.1'],
      ...(options.cert ? { cert: options.cert, key: options.key } : {}),
    });
    socket.once('secureConnect', () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fp);
    });
    socket.once('error', reject);
  });
}

/** `host:port` or a URL's host and port. */
export function hostPort(address: string): { host: string; port: number } {
  const u = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}
