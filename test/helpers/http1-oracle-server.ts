/**
 * A real node:http server (default options, strict parser) as a check on the in-process llhttp
 * oracle of http1-oracle.ts: the differential suite drives `HTTPParser` directly for speed, and
 * this says, on the corpus, that the server reads the same requests off a socket.
 */

import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

/** What the server read off one connection: each request, and the first 4xx it answered. */
export interface ServerReading {
  readonly requests: { method: string; url: string; bodyLength: number }[];
  readonly refusal: number | undefined;
}

/** A node:http server on 127.0.0.1 that reports what a connection's raw bytes carried. */
export interface OracleServer {
  read(buf: Buffer): Promise<ServerReading>;
  close(): Promise<void>;
}

/** Starts one (port 0). */
export async function startOracleServer(): Promise<OracleServer> {
  let seen: ServerReading['requests'] = [];
  const server = createServer({ insecureHTTPParser: false }, (req, res) => {
    const entry = { method: req.method ?? '', url: req.url ?? '', bodyLength: 0 };
    seen.push(entry);
    req.on('data', (c: Buffer) => {
      entry.bodyLength += c.length;
    });
    req.on('end', () => res.end('ok'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    async read(buf) {
      seen = [];
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.write(buf);
      // The server answers a loopback request within milliseconds; 50 ms is ample on this machine.
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      const codes = [
        ...Buffer.concat(chunks)
          .toString('latin1')
          .matchAll(/HTTP\/1\.1 (\d{3})/g),
      ];
      const refusal = codes.map((m) => Number(m[1])).find((c) => c >= 400);
      return { requests: seen, refusal };
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
