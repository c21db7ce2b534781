import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as files. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** A throwaway CA in a temp folder and the certificates it signed (no network: the openssl CLI). */
export interface TestPki {
  readonly dir: string;
  /** The CA's certificate (what clients trust). */
  readonly ca: string;
  /** For 127.0.0.1, ::1 and localhost. */
  readonly server: CertFiles;
  /** A client certificate (mTLS). */
  readonly client: CertFiles;
  /** Another server certificate for the same names (a reload test swaps it in). */
  issueServer(name: string): CertFiles;
  /** A CA and server certificate the test CA did not sign. */
  foreign(): { readonly ca: string; readonly server: CertFiles };
  remove(): void;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newCa(dir: string, name: string): CertFiles {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

function issue(dir: string, ca: CertFiles, name: string, ext: string): CertFiles {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    extFile,
  ]);
  return { cert, key };
}

const SERVER_EXT = 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

/** Makes a CA, a server certificate for loopback and a client certificate in a new temp folder. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-pki-'));
  const ca = newCa(dir, 'ca');
  return {
    dir,
    ca: ca.cert,
    server: issue(dir, ca, 'server', SERVER_EXT),
    client: issue(dir, ca, 'client', CLIENT_EXT),
    issueServer: (name) => issue(dir, ca, name, SERVER_EXT),
    foreign: () => {
      const other = newCa(dir, 'foreign-ca');
      return { ca: other.cert, server: issue(dir, other, 'foreign-server', SERVER_EXT) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The SHA-256 fingerprint of a PEM certificate file (as a TLS peer certificate reports it). */
export function fingerprint(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}
