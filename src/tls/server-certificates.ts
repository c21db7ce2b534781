import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError, type Logger } from '../core/index.js';

/** Where a listener's certificate, key and (for mTLS) client CA live. */
export interface ServerTlsFiles {
  /** PEM certificate chain (`--tls-cert`). */
  readonly certFile: string;
  /** PEM private key (`--tls-key`). */
  readonly keyFile: string;
  /** PEM CA bundle: when set, clients must present a certificate it signed (`--tls-client-ca`). */
  readonly clientCaFile?: string | undefined;
}

/** What a TLS listener serves with, as read from the files. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer | undefined;
}

/** The defaults of the certificate watch, in one place. */
export const TLS_DEFAULTS = Object.freeze({
  /**
   * The files are stat'ed this often; a change is loaded once it has stayed the same for one more
   * poll (so a certificate and key written one after the other load together): within 2 s.
   * Polling, not fs.watch: Kubernetes and cert-manager replace the files by renaming a symlinked
   * folder, which inotify watches on the old files never report.
   */
  pollMs: 1000,
});

/** The file system and timers the watch uses (tests pass fakes). */
export interface CertificateDeps {
  readonly logger: Logger;
  readFile(path: string): Buffer;
  /** A string that changes when the file changes (mtime, size, inode); undefined when missing. */
  signature(path: string): string | undefined;
  every(ms: number, tick: () => void): () => void;
}

/** The real file system and timers. */
export function systemCertificateDeps(logger: Logger): CertificateDeps {
  return {
    logger,
    readFile: (path) => readFileSync(path),
    signature: (path) => {
      try {
        const s = statSync(path);
        return `${s.mtimeMs}:${s.size}:${s.ino}`;
      } catch {
        return undefined;
      }
    },
    every: (ms, tick) => {
      const timer = setInterval(tick, ms).unref();
      return () => clearInterval(timer);
    },
  };
}

/** Listener of certificate changes (a new material was loaded and checked). */
export type MaterialListener = (material: TlsMaterial) => void;

/**
 * A listener's certificate, key and client CA, read from files and reloaded when they change:
 * the one source both the HTTP listener (`setSecureContext`) and gRPC (a certificate provider)
 * take their credentials from. A change that does not load (a key that does not match its
 * certificate, a half-written file) is logged and the previous material stays in use.
 */
export class ServerCertificates {
  private material: TlsMaterial;
  private loadedSignature: string;
  private seenSignature: string;
  private readonly listeners = new Set<MaterialListener>();
  private stopPolling: (() => void) | undefined;

  /** Reads and checks the files now; throws ConfigError naming the flag when they do not load. */
  constructor(
    readonly files: ServerTlsFiles,
    private readonly deps: CertificateDeps,
    private readonly options: { readonly pollMs?: number } = {},
  ) {
    this.loadedSignature = this.signature();
    this.seenSignature = this.loadedSignature;
    this.material = this.read();
  }

  /** True with a client CA: clients without a certificate it signed are refused. */
  get requiresClientCertificate(): boolean {
    return this.files.clientCaFile !== undefined;
  }

  /** The material in use now. */
  get current(): TlsMaterial {
    return this.material;
  }

  /** Options for `tls.createServer` / `http2.createSecureServer` (context plus client-cert policy). */
  serverOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    const mtls = this.requiresClientCertificate;
    return { ...contextOptions(this.material), requestCert: mtls, rejectUnauthorized: mtls };
  }

  /** Calls `listener` on every reload; returns the unsubscribe function. */
  onChange(listener: MaterialListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts polling the files (idempotent). */
  start(): void {
    this.stopPolling ??= this.deps.every(this.options.pollMs ?? TLS_DEFAULTS.pollMs, () => this.poll());
  }

  /** Stops polling. */
  close(): void {
    this.stopPolling?.();
    this.stopPolling = undefined;
  }

  /** One poll: loads the files once a change has held still for a whole interval. */
  poll(): void {
    const now = this.signature();
    const settled = now === this.seenSignature;
    this.seenSignature = now;
    if (!settled || now === this.loadedSignature) return;
    this.loadedSignature = now;
    try {
      this.material = this.read();
    } catch (err) {
      this.deps.logger.warn('TLS files changed but do not load; keeping the previous certificate', {
        error: (err as Error).message,
      });
      return;
    }
    this.deps.logger.info('TLS certificate reloaded', { cert: this.files.certFile });
    for (const l of this.listeners) l(this.material);
  }

  private signature(): string {
    const { certFile, keyFile, clientCaFile } = this.files;
    return [certFile, keyFile, clientCaFile]
      .map((f) => (f === undefined ? '' : (this.deps.signature(f) ?? 'missing')))
      .join('|');
  }

  private read(): TlsMaterial {
    const { certFile, keyFile, clientCaFile } = this.files;
    const material: TlsMaterial = {
      cert: readFlag(this.deps, '--tls-cert', certFile),
      key: readFlag(this.deps, '--tls-key', keyFile),
      ...(clientCaFile !== undefined ? { ca: readFlag(this.deps, '--tls-client-ca', clientCaFile) } : {}),
    };
    try {
      // Throws on a key that does not match the certificate, or PEM that does not parse.
      createSecureContext(contextOptions(material));
    } catch (err) {
      throw new ConfigError('--tls-cert/--tls-key', `${certFile}, ${keyFile}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return material;
  }
}

/** The secure-context part of a material (what `setSecureContext` takes). */
export function contextOptions(m: TlsMaterial): SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) };
}

function readFlag(deps: CertificateDeps, flag: string, file: string): Buffer {
  try {
    return deps.readFile(file);
  } catch (err) {
    throw new ConfigError(flag, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}
