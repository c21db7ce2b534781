import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, createLogger, type Timers } from '../../src/core/index.js';
import {
  type DiscoveredChange,
  type DiscoveryState,
  type DnsAnswer,
  DnsDiscovery,
  type DnsResolver,
  decideDiscovery,
  type FamilyAnswer,
  INITIAL_DISCOVERY,
} from '../../src/gateway/index.js';
import { parseServiceFile, SERVICE_FILE_DEFAULTS } from '../../src/spec/index.js';

const timing = { intervalMs: 5000, minIntervalMs: 1000 };
const records = (ttl: number, ...addresses: string[]): FamilyAnswer => ({
  kind: 'records',
  records: addresses.map((address) => ({ address, ttl })),
});
const empty: FamilyAnswer = { kind: 'empty' };
const failed = (code: string): FamilyAnswer => ({ kind: 'failed', code });
const known = (status: DiscoveryState['status'], ...addresses: string[]): DiscoveryState => ({
  addresses,
  status,
});

describe('decideDiscovery (pure)', () => {
  const cases: {
    name: string;
    known: DiscoveryState;
    answer: DnsAnswer;
    add: string[];
    remove: string[];
    status: DiscoveryState['status'];
    waitMs: number;
    statusChanged: boolean;
  }[] = [
    {
      name: 'first answer: every address joins; TTL 3 s is sooner than the interval',
      known: INITIAL_DISCOVERY,
      answer: { v4: records(3, '10.0.0.2'), v6: empty },
      add: ['10.0.0.2'],
      remove: [],
      status: 'resolved',
      waitMs: 3000,
      statusChanged: true,
    },
    {
      name: 'one to three: two join, nothing drains, nothing worth a status line',
      known: known('resolved', '10.0.0.2'),
      answer: { v4: records(30, '10.0.0.4', '10.0.0.2', '10.0.0.3'), v6: empty },
      add: ['10.0.0.3', '10.0.0.4'],
      remove: [],
      status: 'resolved',
      waitMs: 5000,
      statusChanged: false,
    },
    {
      name: 'three to two: one drains; TTL 0 is floored at minInterval',
      known: known('resolved', '10.0.0.2', '10.0.0.3', '10.0.0.4'),
      answer: { v4: records(0, '10.0.0.2', '10.0.0.4'), v6: empty },
      add: [],
      remove: ['10.0.0.3'],
      status: 'resolved',
      waitMs: 1000,
      statusChanged: false,
    },
    {
      name: 'the lowest TTL of both families wins',
      known: INITIAL_DISCOVERY,
      answer: { v4: records(4, '10.0.0.2'), v6: records(2, 'fd00::2') },
      add: ['10.0.0.2', 'fd00::2'],
      remove: [],
      status: 'resolved',
      waitMs: 2000,
      statusChanged: true,
    },
    {
      name: 'NXDOMAIN on both: the last known set stays, retried after the interval',
      known: known('resolved', '10.0.0.2', 'fd00::2'),
      answer: { v4: failed('ENOTFOUND'), v6: failed('ENOTFOUND') },
      add: [],
      remove: [],
      status: 'failed',
      waitMs: 5000,
      statusChanged: true,
    },
    {
      name: 'AAAA times out, A answers: v4 follows the answer, v6 keeps what it had',
      known: known('resolved', '10.0.0.2', 'fd00::2'),
      answer: { v4: records(10, '10.0.0.3'), v6: failed('ETIMEOUT') },
      add: ['10.0.0.3'],
      remove: ['10.0.0.2'],
      status: 'failed',
      waitMs: 5000,
      statusChanged: true,
    },
    {
      name: 'NODATA on both is an answer: every replica drains',
      known: known('resolved', '10.0.0.2'),
      answer: { v4: empty, v6: empty },
      add: [],
      remove: ['10.0.0.2'],
      status: 'no-addresses',
      waitMs: 5000,
      statusChanged: true,
    },
    {
      name: 'an empty first answer: no replicas, a clear status',
      known: INITIAL_DISCOVERY,
      answer: { v4: empty, v6: empty },
      add: [],
      remove: [],
      status: 'no-addresses',
      waitMs: 5000,
      statusChanged: true,
    },
    {
      name: 'the same failure again changes nothing, not even the status',
      known: { addresses: ['10.0.0.2'], status: 'failed', error: 'A ETIMEOUT, AAAA ETIMEOUT' },
      answer: { v4: failed('ETIMEOUT'), v6: failed('ETIMEOUT') },
      add: [],
      remove: [],
      status: 'failed',
      waitMs: 5000,
      statusChanged: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideDiscovery(c.known, c.answer, 10_000, timing);
      assert.deepEqual(d.add, c.add);
      assert.deepEqual(d.remove, c.remove);
      assert.equal(d.state.status, c.status);
      assert.equal(d.nextResolveAtMs - 10_000, c.waitMs);
      assert.equal(d.statusChanged, c.statusChanged);
      const after = new Set([...c.known.addresses.filter((a) => !c.remove.includes(a)), ...c.add]);
      assert.deepEqual(d.state.addresses, [...after].sort());
    });
  }

  it('names the failed families in the error', () => {
    const d = decideDiscovery(INITIAL_DISCOVERY, { v4: failed('ENOTFOUND'), v6: empty }, 0, timing);
    assert.equal(d.state.error, 'A ENOTFOUND');
  });
});

/** Timers on a simulated clock: they fire only when the test advances time. */
class FakeTime implements Timers {
  at = 0;
  private readonly pending: { at: number; fn: () => void; live: boolean }[] = [];
  readonly clock = { now: () => this.at };
  after(ms: number, fn: () => void): () => void {
    const t = { at: this.at + ms, fn, live: true };
    this.pending.push(t);
    return () => {
      t.live = false;
    };
  }
  /** Timers still to fire, as delays from now. */
  armed(): number[] {
    return this.pending.filter((p) => p.live).map((p) => p.at - this.at);
  }
  async advance(ms: number): Promise<void> {
    this.at += ms;
    for (const t of this.pending.filter((p) => p.live && p.at <= this.at)) {
      t.live = false;
      t.fn();
    }
    await settle();
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A resolver that answers from a script (a unit test's stand-in; the e2e test runs a DNS server). */
class ScriptedResolver implements DnsResolver {
  v4: { address: string; ttl: number }[] | Error = [];
  v6: { address: string; ttl: number }[] | Error = Object.assign(new Error('no AAAA'), { code: 'ENODATA' });
  queries = 0;
  async resolve4(): Promise<{ address: string; ttl: number }[]> {
    this.queries++;
    if (this.v4 instanceof Error) throw this.v4;
    return this.v4;
  }
  async resolve6(): Promise<{ address: string; ttl: number }[]> {
    if (this.v6 instanceof Error) throw this.v6;
    return this.v6;
  }
}

function loop() {
  const time = new FakeTime();
  const resolver = new ScriptedResolver();
  const lines: string[] = [];
  const changes: DiscoveredChange[] = [];
  const discovery = new DnsDiscovery(
    { service: 'mnist', variant: 'stable', name: 'mnist-stable.default.svc.cluster.local', timing },
    {
      resolver,
      clock: time.clock,
      timers: time,
      logger: createLogger('debug', (l) => lines.push(l)),
      replicas: { follow: (c) => changes.push(c) },
    },
  );
  return { time, resolver, lines, changes, discovery };
}

describe('DnsDiscovery (driver, fake time)', () => {
  it('resolves at once, then again when the TTL says, and hands each change over', async () => {
    const { time, resolver, changes, discovery } = loop();
    resolver.v4 = [{ address: '10.0.0.2', ttl: 2 }];
    discovery.start();
    await settle();
    assert.deepEqual(changes, [{ add: ['10.0.0.2'], remove: [], addresses: ['10.0.0.2'] }]);
    assert.deepEqual(time.armed(), [2000]);
    resolver.v4 = [
      { address: '10.0.0.2', ttl: 30 },
      { address: '10.0.0.3', ttl: 30 },
    ];
    await time.advance(1999);
    assert.equal(resolver.queries, 1, 'not before the TTL');
    await time.advance(1);
    assert.equal(resolver.queries, 2);
    assert.deepEqual(changes[1], { add: ['10.0.0.3'], remove: [], addresses: ['10.0.0.2', '10.0.0.3'] });
    assert.deepEqual(time.armed(), [5000], 'a TTL above the interval waits only the interval');
    assert.deepEqual(discovery.snapshot(), {
      name: 'mnist-stable.default.svc.cluster.local',
      status: 'resolved',
      addresses: ['10.0.0.2', '10.0.0.3'],
      resolvedAtMs: 2000,
      nextResolveAtMs: 7000,
    });
    discovery.close();
    assert.deepEqual(time.armed(), []);
  });

  it('an outage keeps the set and logs once, its end once, not every interval', async () => {
    const { time, resolver, lines, changes, discovery } = loop();
    resolver.v4 = [{ address: '10.0.0.2', ttl: 5 }];
    discovery.start();
    await settle();
    resolver.v4 = Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' });
    for (let i = 0; i < 5; i++) await time.advance(5000);
    assert.equal(resolver.queries, 6);
    assert.equal(changes.length, 1, 'a failure changes no replica');
    assert.equal(lines.filter((l) => l.includes('DNS resolution failed')).length, 1);
    assert.match(lines.find((l) => l.includes('DNS resolution failed'))!, /error="A ENOTFOUND" kept=1/);
    resolver.v4 = [{ address: '10.0.0.2', ttl: 5 }];
    await time.advance(5000);
    await time.advance(5000);
    assert.equal(lines.filter((l) => l.includes('DNS name resolved')).length, 2, 'start, and recovery');
    assert.equal(changes.length, 1);
  });

  it('an empty first answer is a status, and the variant gets its first replica when one appears', async () => {
    const { time, resolver, lines, changes, discovery } = loop();
    resolver.v4 = Object.assign(new Error('no A'), { code: 'ENODATA' });
    discovery.start();
    await settle();
    assert.equal(discovery.snapshot().status, 'no-addresses');
    assert.deepEqual(changes, [{ add: [], remove: [], addresses: [] }]);
    assert.ok(lines.some((l) => l.includes('the variant has no replicas')));
    resolver.v4 = [{ address: '10.0.0.9', ttl: 5 }];
    await time.advance(5000);
    assert.deepEqual(changes[1]?.addresses, ['10.0.0.9']);
  });

  it('a slow answer is not doubled up, and one that lands after close is dropped', async () => {
    const { time, changes, discovery } = loop();
    let answer: (r: { address: string; ttl: number }[]) => void = () => {};
    const slow: DnsResolver = {
      resolve4: () => new Promise((r) => (answer = r)),
      resolve6: async () => [],
    };
    const d = new DnsDiscovery(discovery.options, {
      resolver: slow,
      clock: time.clock,
      timers: time,
      logger: createLogger('silent'),
      replicas: { follow: (c) => changes.push(c) },
    });
    d.start();
    const again = d.resolveNow();
    d.close();
    answer([{ address: '10.0.0.2', ttl: 1 }]);
    await again;
    assert.deepEqual(changes, []);
    assert.deepEqual(time.armed(), []);
  });
});

describe('service file: dns:// endpoints', () => {
  const file = (variant: Record<string, unknown>, service: Record<string, unknown> = {}) =>
    parseServiceFile({ services: { mnist: { variants: [{ tag: 'a', ...variant }], ...service } } }, 'f.yaml');
  const errorOf = (variant: Record<string, unknown>, service: Record<string, unknown> = {}): string => {
    try {
      file(variant, service);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail('expected a ConfigError');
  };

  it('pins the discovery defaults', () => {
    assert.deepEqual(SERVICE_FILE_DEFAULTS.discovery, { intervalMs: 5000, minIntervalMs: 1000 });
  });

  it('reads the name, the ports and the service-wide intervals', () => {
    const runs = file(
      {
        endpoints: 'dns://mnist-stable.default.svc.cluster.local:8080',
        grpcEndpoints: 'dns://mnist-stable.default.svc.cluster.local:8081',
      },
      { discovery: { interval: '2s' } },
    ).services[0]!.variants[0]!.runs;
    assert.deepEqual(runs, {
      kind: 'endpoints',
      endpoints: [],
      dns: {
        name: 'mnist-stable.default.svc.cluster.local',
        port: 8080,
        grpcPort: 8081,
        intervalMs: 2000,
        minIntervalMs: 1000,
      },
    });
  });

  it('checks a TLS certificate against the DNS name unless told otherwise', () => {
    const runs = file({ endpoints: 'dns://mnist.ns.svc.cluster.local:8443', tls: {} }).services[0]!
      .variants[0]!.runs;
    assert.equal(runs.kind === 'endpoints' ? runs.tls?.serverName : undefined, 'mnist.ns.svc.cluster.local');
  });

  const bad: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    ['no port', { endpoints: 'dns://mnist.svc' }, {}, /"dns:\/\/mnist\.svc" is not dns:\/\/NAME:PORT/],
    ['port 0', { endpoints: 'dns://mnist.svc:0' }, {}, /is not dns:\/\/NAME:PORT/],
    ['an IP address', { endpoints: 'dns://10.0.0.1:80' }, {}, /"10\.0\.0\.1" is not a host name to resolve/],
    ['a bad label', { endpoints: 'dns://-bad.svc:80' }, {}, /"-bad\.svc" is not a host name/],
    [
      'gRPC by another name',
      { endpoints: 'dns://a.svc:80', grpcEndpoints: 'dns://b.svc:81' },
      {},
      /grpcEndpoints: the same replicas' gRPC port: dns:\/\/a\.svc:PORT/,
    ],
    [
      'gRPC by DNS, HTTP static',
      { endpoints: '127.0.0.1:80', grpcEndpoints: 'dns://b.svc:81' },
      {},
      /dns:\/\/ gRPC endpoints go with dns:\/\/ endpoints/,
    ],
    [
      'minInterval above interval',
      { endpoints: 'dns://a.svc:80' },
      { discovery: { interval: '1s', minInterval: '2s' } },
      /discovery\.minInterval: minInterval \(2000 ms\) must be above 0 and at most interval \(1000 ms\)/,
    ],
    [
      'an unknown discovery key',
      { endpoints: 'dns://a.svc:80' },
      { discovery: { intervall: '1s' } },
      /discovery.*intervall/,
    ],
  ];
  for (const [name, variant, service, message] of bad) {
    it(`refuses ${name}`, () => assert.match(errorOf(variant, service), message));
  }
});
