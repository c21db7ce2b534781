import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/index.js';
import type { UpstreamTlsSpec } from '../spec/index.js';

/** How a client (the gateway to its replicas, the bench, the client library) speaks TLS. */
export interface ClientTlsFiles {
  /** PEM CA bundle trusted for the server's certificate (default: Node's built-in roots). */
  readonly caFile?: string | undefined;
  /** PEM client certificate and key, for servers that require one (mTLS). */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** The name checked against the server's certificate (and sent as SNI) when not the host dialed. */
  readonly serverName?: string | undefined;
  /** Skip verifying the server's certificate (tests and benchmarks only). */
  readonly insecure?: boolean | undefined;
}

/** The options `tls.connect`, undici's `connect` and `http2.connect` take, with the files read. */
export interface ClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/** Reads a client's TLS files (`what` names the setting in errors). */
export function readClientTls(
  files: ClientTlsFiles,
  what: string,
  readFile: (path: string) => Buffer = (p) => readFileSync(p),
): ClientTls {
  const read = (field: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (err) {
      throw new ConfigError(`${what}.${field}`, `cannot read ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  if ((files.certFile === undefined) !== (files.keyFile === undefined))
    throw new ConfigError(what, 'a client certificate needs its key, and a key its certificate');
  const ca = read('ca', files.caFile);
  const cert = read('cert', files.certFile);
  const key = read('key', files.keyFile);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(files.serverName !== undefined ? { servername: files.serverName } : {}),
    rejectUnauthorized: files.insecure !== true,
  };
}

/** Connection options for a TLS connection to `host` with `tls`: SNI is never an IP address. */
export function connectOptions(tls: ClientTls, host: string): ClientTls & { ALPNProtocols: string[] } {
  const bare = host.replace(/^\[|\]$/g, '');
  const servername = tls.servername ?? (isIp(bare) ? undefined : bare);
  return {
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(servername !== undefined ? { servername } : {}),
    ALPNProtocols: ['http/1.1'],
  };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Client TLS with an identity: the same files' contents give the same `id`. */
export interface IdentifiedClientTls extends ClientTls {
  /** A digest of the settings and file contents: replicas are rebuilt when it changes. */
  readonly id: string;
}

/** Reads client TLS files and tags them with a digest of what was read. */
export function readIdentifiedClientTls(files: ClientTlsFiles, what: string): IdentifiedClientTls {
  const tls = readClientTls(files, what);
  const h = createHash('sha256');
  for (const part of [tls.ca, tls.cert, tls.key]) h.update(part ?? '').update('\0');
  h.update(`${tls.servername ?? ''}\0${tls.rejectUnauthorized}`);
  return { ...tls, id: h.digest('hex').slice(0, 16) };
}

/** A service file's `tls:` of static endpoints, read (`what` names it in errors). */
export function upstreamTls(spec: UpstreamTlsSpec, what: string): IdentifiedClientTls {
  return readIdentifiedClientTls(
    {
      caFile: spec.caFile,
      certFile: spec.certFile,
      keyFile: spec.keyFile,
      serverName: spec.serverName,
      insecure: spec.insecureSkipVerify,
    },
    what,
  );
}
