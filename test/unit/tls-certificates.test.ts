import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createLogger, FlotillaError } from '../../src/core/index.js';
import { parseServiceFileYaml, SERVICE_FILE_DEFAULTS } from '../../src/spec/index.js';
import {
  type CertificateDeps,
  CertificatesProvider,
  readClientTls,
  ServerCertificates,
  TLS_DEFAULTS,
} from '../../src/tls/index.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';

/** In-memory files with versions, and a poll timer the test ticks by hand. */
function fakeDeps(files: Map<string, Buffer>) {
  const versions = new Map<string, number>();
  const logs: string[] = [];
  let tick: (() => void) | undefined;
  let intervalMs: number | undefined;
  const deps: CertificateDeps = {
    logger: createLogger('debug', (l) => logs.push(l)),
    readFile: (p) => {
      const b = files.get(p);
      if (!b) throw new Error(`ENOENT: ${p}`);
      return b;
    },
    signature: (p) => (files.has(p) ? String(versions.get(p) ?? 0) : undefined),
    every: (ms, t) => {
      intervalMs = ms;
      tick = t;
      return () => (tick = undefined);
    },
  };
  return {
    deps,
    logs,
    write(path: string, content: Buffer) {
      files.set(path, content);
      versions.set(path, (versions.get(path) ?? 0) + 1);
    },
    tick: () => tick?.(),
    get intervalMs() {
      return intervalMs;
    },
    get polling() {
      return tick !== undefined;
    },
  };
}

describe('ServerCertificates (finding 7: certificates reloaded when their files change)', () => {
  let pki: TestPki;
  let first: { cert: Buffer; key: Buffer };
  let second: { cert: Buffer; key: Buffer };
  const files = { certFile: '/tls/cert.pem', keyFile: '/tls/key.pem' };

  before(() => {
    pki = makeTestPki();
    first = { cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key) };
    const next = pki.issueServer('next');
    second = { cert: readFileSync(next.cert), key: readFileSync(next.key) };
  });
  after(() => pki.remove());

  const start = () => {
    const fs = fakeDeps(new Map());
    fs.write(files.certFile, first.cert);
    fs.write(files.keyFile, first.key);
    const certs = new ServerCertificates(files, fs.deps);
    const seen: Buffer[] = [];
    certs.onChange((m) => seen.push(m.cert));
    certs.start();
    return { fs, certs, seen };
  };

  it('reads the files at once and polls at the default interval', () => {
    const { fs, certs } = start();
    assert.deepEqual(certs.current.cert, first.cert);
    assert.equal(fs.intervalMs, TLS_DEFAULTS.pollMs);
    assert.deepEqual(certs.serverOptions().requestCert, false);
    certs.close();
    assert.equal(fs.polling, false);
  });

  it('names the flag when a file cannot be read, and when the key does not match', () => {
    const fs = fakeDeps(new Map());
    fs.write(files.certFile, first.cert);
    assert.throws(
      () => new ServerCertificates(files, fs.deps),
      (e: unknown) =>
        e instanceof FlotillaError && e.code === 'FLT_CONFIG_INVALID' && /--tls-key/.test(e.message),
    );
    fs.write(files.keyFile, second.key);
    assert.throws(() => new ServerCertificates(files, fs.deps), /--tls-cert\/--tls-key/);
  });

  it('loads a change once it held still for one poll, and tells listeners once', () => {
    const { fs, certs, seen } = start();
    fs.tick();
    assert.equal(seen.length, 0, 'nothing changed');
    fs.write(files.certFile, second.cert);
    fs.write(files.keyFile, second.key);
    fs.tick();
    assert.equal(seen.length, 0, 'a change is not loaded on the poll that sees it (it may still be written)');
    fs.tick();
    assert.equal(seen.length, 1);
    assert.deepEqual(certs.current.cert, second.cert);
    fs.tick();
    assert.equal(seen.length, 1, 'loaded once');
  });

  it('keeps the previous certificate while the new pair does not match, and loads it once it does', () => {
    const { fs, certs, seen } = start();
    fs.write(files.certFile, second.cert);
    fs.tick();
    fs.tick();
    assert.equal(seen.length, 0);
    assert.deepEqual(certs.current.cert, first.cert);
    assert.match(fs.logs.join(''), /do not load; keeping the previous certificate/);
    fs.write(files.keyFile, second.key);
    fs.tick();
    fs.tick();
    assert.deepEqual(certs.current.cert, second.cert);
  });

  it('feeds grpc-js through a certificate provider: on the next tick, then on every reload', async () => {
    const { fs, certs } = start();
    const provider = new CertificatesProvider(certs);
    const got: (Buffer | undefined)[] = [];
    const listener = (u: { certificate: Buffer } | null) => got.push(u?.certificate);
    provider.addIdentityCertificateListener(listener as never);
    assert.equal(got.length, 0, 'not synchronously: grpc-js adds its watcher after our listener');
    await new Promise((r) => process.nextTick(r));
    assert.deepEqual(got, [first.cert]);
    fs.write(files.certFile, second.cert);
    fs.write(files.keyFile, second.key);
    fs.tick();
    fs.tick();
    assert.deepEqual(got, [first.cert, second.cert]);
    provider.removeIdentityCertificateListener(listener as never);
    fs.write(files.certFile, first.cert);
    fs.write(files.keyFile, first.key);
    fs.tick();
    fs.tick();
    assert.equal(got.length, 2, 'removed listeners hear nothing');
  });

  it('requires client certificates with a client CA', () => {
    const fs = fakeDeps(new Map());
    fs.write(files.certFile, first.cert);
    fs.write(files.keyFile, first.key);
    fs.write('/tls/ca.pem', readFileSync(pki.ca));
    const certs = new ServerCertificates({ ...files, clientCaFile: '/tls/ca.pem' }, fs.deps);
    const o = certs.serverOptions();
    assert.equal(o.requestCert, true);
    assert.equal(o.rejectUnauthorized, true);
    assert.ok(o.ca);
  });
});

describe('readClientTls', () => {
  it('reads the files, verifies by default, and refuses a certificate without its key', () => {
    const read = (p: string) => Buffer.from(p);
    const tls = readClientTls({ caFile: 'ca', serverName: 'replica.internal' }, 'tls', read);
    assert.deepEqual(tls, {
      ca: Buffer.from('ca'),
      servername: 'replica.internal',
      rejectUnauthorized: true,
    });
    assert.equal(readClientTls({ insecure: true }, 'tls', read).rejectUnauthorized, false);
    assert.throws(
      () => readClientTls({ certFile: 'c' }, 'services.a.variants[0].tls', read),
      /needs its key/,
    );
  });
});

describe('service file: tls of static endpoints (finding 7)', () => {
  const parse = (variant: string) =>
    parseServiceFileYaml(
      `services:\n  m:\n    variants:\n      - ${variant}\n`,
      '/etc/flotilla/services.yaml',
    );

  it('resolves files against the service file folder, with verification on by default', () => {
    const file = parse(
      '{ tag: a, endpoints: "h:1", tls: { ca: certs/ca.pem, cert: /abs/c.pem, key: k.pem, serverName: m.internal } }',
    );
    const runs = file.services[0]!.variants[0]!.runs;
    assert.equal(runs.kind, 'endpoints');
    assert.deepEqual(runs.kind === 'endpoints' ? runs.tls : undefined, {
      caFile: '/etc/flotilla/certs/ca.pem',
      certFile: '/abs/c.pem',
      keyFile: '/etc/flotilla/k.pem',
      serverName: 'm.internal',
      insecureSkipVerify: SERVICE_FILE_DEFAULTS.tls.insecureSkipVerify,
    });
    const empty = parse('{ tag: a, endpoints: "h:1", tls: {} }').services[0]!.variants[0]!.runs;
    assert.deepEqual(empty.kind === 'endpoints' ? empty.tls : undefined, { insecureSkipVerify: false });
  });

  it('refuses a certificate without its key, unknown keys, and tls on a managed variant', () => {
    assert.throws(
      () => parse('{ tag: a, endpoints: "h:1", tls: { cert: c.pem } }'),
      /cert and key go together/,
    );
    assert.throws(() => parse('{ tag: a, endpoints: "h:1", tls: { caFile: c.pem } }'), /caFile/);
    assert.throws(
      () => parse('{ tag: a, command: "x", tls: {} }'),
      /variants\[0\]\.tls: tls is for static endpoints/,
    );
  });
});
