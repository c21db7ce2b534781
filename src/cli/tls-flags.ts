import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { ConfigError, type Logger } from '../core/index.js';
import { ServerCertificates, type ServerTlsFiles, systemCertificateDeps } from '../tls/index.js';

/**
 * `--tls-cert`, `--tls-key` and `--tls-client-ca`, shared by `serve`, `gateway` and `up`: the
 * listener's certificate (reloaded when the files change) and, for mTLS, the CA clients'
 * certificates must chain to.
 */
export function addServerTlsFlags(command: Command, listeners: string): Command {
  return command
    .addOption(
      new Option(
        '--tls-cert <file>',
        `PEM certificate (chain) to serve ${listeners} over TLS; reloaded when the file changes`,
      ),
    )
    .addOption(
      new Option('--tls-key <file>', 'PEM private key of --tls-cert; reloaded when the file changes'),
    )
    .addOption(
      new Option(
        '--tls-client-ca <file>',
        'PEM CA bundle: require clients to present a certificate it signed (mTLS)',
      ),
    );
}

/** The TLS files of parsed flags; undefined when TLS is off. Throws ConfigError on half a pair. */
export function serverTlsFiles(opts: Record<string, unknown>): ServerTlsFiles | undefined {
  const cert = opts['tlsCert'] as string | undefined;
  const key = opts['tlsKey'] as string | undefined;
  const ca = opts['tlsClientCa'] as string | undefined;
  if (cert === undefined && key === undefined) {
    if (ca !== undefined) throw new ConfigError('--tls-client-ca', 'needs --tls-cert and --tls-key');
    return undefined;
  }
  if (cert === undefined || key === undefined)
    throw new ConfigError(
      cert === undefined ? '--tls-cert' : '--tls-key',
      'TLS needs both --tls-cert and --tls-key',
    );
  return { certFile: resolve(cert), keyFile: resolve(key), ...(ca ? { clientCaFile: resolve(ca) } : {}) };
}

/** Reads the certificates now (failing fast on bad files) and starts watching them. */
export function watchCertificates(
  files: ServerTlsFiles | undefined,
  logger: Logger,
): ServerCertificates | undefined {
  if (!files) return undefined;
  const certs = new ServerCertificates(files, systemCertificateDeps(logger));
  certs.start();
  return certs;
}
