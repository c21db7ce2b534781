import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { contextOptions, type ServerCertificates } from './server-certificates.js';

/**
 * The listening socket of an HTTP/1.1 front (the model server's, the gateway's): plain TCP, or
 * TLS when given certificates. Either way `onConnection` gets a Duplex socket to read HTTP from
 * (a TLSSocket once its handshake is done), so the raw-socket fast path and the hand-over to
 * node:http work the same over both. The TLS listener takes every certificate reload.
 */
export function createListener(
  tls: ServerCertificates | undefined,
  onConnection: (socket: Socket) => void,
): Server {
  if (!tls) return createNetServer({ noDelay: true }, onConnection);
  const server = createTlsServer({ ...tls.serverOptions(), noDelay: true, ALPNProtocols: ['http/1.1'] });
  // A client that fails its handshake (plain HTTP, no or an untrusted client certificate) loses
  // only its own connection: Node destroys that socket before 'secureConnection'.
  server.on('secureConnection', onConnection);
  const unsubscribe = tls.onChange((m) => server.setSecureContext(contextOptions(m)));
  server.once('close', unsubscribe);
  return server;
}

/** `https` or `http`, as a listener's URL is logged. */
export function scheme(tls: ServerCertificates | undefined): 'http' | 'https' {
  return tls ? 'https' : 'http';
}
