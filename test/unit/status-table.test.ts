import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStatus, formatWeights } from '../../src/cli/status-table.js';
import type { FleetEvent, StatusReport } from '../../src/fleet/status.js';

// Event times are local wall-clock times: pin the zone so the expected strings hold anywhere.
process.env['TZ'] = 'UTC';

const AT = Date.UTC(2025, 0, 15, 12, 0, 0);

const events: FleetEvent[] = Array.from({ length: 12 }, (_, i) => ({
  atMs: AT - (12 - i) * 1000,
  kind: i % 2 === 0 ? 'scale' : 'rollout',
  service: 'mnist',
  ...(i % 2 === 0 ? { variant: 'v1' } : {}),
  message: `decision ${i}`,
}));

const report: StatusReport = {
  atMs: AT,
  services: [
    {
      name: 'mnist',
      hosts: ['mnist.local'],
      path: '/mnist',
      rollout: {
        phase: 'progressing',
        stable: 'v1',
        canary: 'v2',
        canaryWeight: 25,
        step: 1,
        steps: [10, 25, 50, 100],
        lastDecision: 'advance to 25%: p99 31 ms <= 50 ms',
      },
      variants: [
        {
          tag: 'v1',
          weight: 75,
          runs: 'model',
          modelName: 'mnist',
          modelVersion: '1',
          inflight: 3,
          requests: 1200,
          errors: 4,
          scale: { desired: 2, ready: 1, min: 1, max: 4, pinned: false, panic: false, queued: 2 },
          replicas: [
            {
              id: 'v1-0',
              state: 'ready',
              pid: 4101,
              address: '127.0.0.1:9001',
              inflight: 3,
              restarts: 0,
              startMs: 850,
            },
            { id: 'v1-1', state: 'starting', pid: 4102, inflight: 0, restarts: 0 },
          ],
        },
        {
          tag: 'v2',
          weight: 25,
          runs: 'model',
          modelName: 'mnist',
          modelVersion: '2',
          inflight: 0,
          requests: 400,
          errors: 0,
          scale: { desired: 1, ready: 1, min: 0, max: 2, pinned: true, panic: false, queued: 0 },
          replicas: [
            {
              id: 'v2-0',
              state: 'ready',
              pid: 4103,
              address: '127.0.0.1:9003',
              inflight: 0,
              restarts: 1,
              startMs: 1420,
              healthy: false,
            },
          ],
        },
      ],
    },
    {
      name: 'ocr',
      hosts: [],
      variants: [
        {
          tag: 'a',
          weight: 1,
          runs: 'endpoints',
          modelName: 'ocr',
          inflight: 1,
          requests: 10,
          errors: 0,
          replicas: [{ id: '127.0.0.1:7001', state: 'static', address: '127.0.0.1:7001', inflight: 1 }],
        },
        {
          tag: 'b',
          weight: 3,
          runs: 'endpoints',
          modelName: 'ocr',
          inflight: 0,
          requests: 30,
          errors: 2,
          replicas: [],
        },
      ],
    },
  ],
  events,
};

const cells = (line: string): string[] => line.trim().split(/\s{2,}/);

/** Where each cell starts (cells are separated by two spaces or more; a cell holds single ones). */
const starts = (line: string): number[] => [...line.matchAll(/\S+(?: \S+)*/g)].map((m) => m.index);

function rowOf(lines: readonly string[], first: string): string {
  const row = lines.find((l) => cells(l)[0] === first);
  assert.ok(row, `no row starting with ${first}`);
  return row;
}

/** The lines of one service's block (up to the blank line after it). */
function block(text: string, service: string): string[] {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => l.startsWith(`service ${service} `));
  assert.ok(from >= 0, `no block for ${service}`);
  const to = lines.indexOf('', from);
  return lines.slice(from, to < 0 ? undefined : to);
}

describe('formatStatus', () => {
  const text = formatStatus(report);

  it('heads each service with its hosts, path and rollout progress', () => {
    const [header] = block(text, 'mnist');
    assert.equal(
      header,
      'service mnist  hosts: mnist.local  path: /mnist  rollout: progressing 25% (step 2/4)  stable: v1  canary: v2',
    );
    assert.match(text, /^ {2}last rollout decision: advance to 25%: p99 31 ms <= 50 ms$/m);
    assert.equal(block(text, 'ocr')[0], 'service ocr  hosts: *');
  });

  it('lists variants with weight shares, desired/ready, bounds and counters; static ones show -', () => {
    const mnist = block(text, 'mnist');
    assert.deepEqual(cells(rowOf(mnist, 'TAG')), [
      'TAG',
      'WEIGHT',
      'RUNS',
      'DESIRED/READY',
      'MIN-MAX',
      'INFLIGHT',
      'QUEUED',
      'REQUESTS',
      'ERRORS',
    ]);
    assert.deepEqual(cells(rowOf(mnist, 'v1')), [
      'v1',
      '75%',
      'model mnist:1',
      '2/1',
      '1-4',
      '3',
      '2',
      '1200',
      '4',
    ]);
    assert.deepEqual(cells(rowOf(mnist, 'v2')), [
      'v2',
      '25%',
      'model mnist:2',
      '1/1',
      '0-2 pinned',
      '0',
      '0',
      '400',
      '0',
    ]);
    const ocr = block(text, 'ocr');
    assert.deepEqual(cells(rowOf(ocr, 'a')), ['a', '25%', 'endpoints ocr', '-', '-', '1', '-', '10', '0']);
    assert.deepEqual(cells(rowOf(ocr, 'b')), ['b', '75%', 'endpoints ocr', '-', '-', '0', '-', '30', '2']);
  });

  it('puts replica rows beneath their variant, with pid, address, restarts and cold start', () => {
    const mnist = block(text, 'mnist');
    const v1 = mnist.indexOf(rowOf(mnist, 'v1'));
    assert.deepEqual(cells(mnist[v1 + 1]!), [
      'ID',
      'STATE',
      'PID',
      'ADDRESS',
      'INFLIGHT',
      'RESTARTS',
      'STARTUP',
    ]);
    assert.deepEqual(cells(mnist[v1 + 2]!), ['v1-0', 'ready', '4101', '127.0.0.1:9001', '3', '0', '850ms']);
    assert.deepEqual(cells(mnist[v1 + 3]!), ['v1-1', 'starting', '4102', '-', '0', '0', '-']);
    assert.equal(mnist[v1 + 4], rowOf(mnist, 'v2'));
    assert.deepEqual(cells(rowOf(mnist, 'v2-0')), [
      'v2-0',
      'ready,unhealthy',
      '4103',
      '127.0.0.1:9003',
      '0',
      '1',
      '1.4s',
    ]);
    assert.deepEqual(cells(rowOf(block(text, 'ocr'), '127.0.0.1:7001')), [
      '127.0.0.1:7001',
      'static',
      '-',
      '127.0.0.1:7001',
      '1',
      '-',
      '-',
    ]);
    assert.match(rowOf(mnist, 'v1-0'), /^ {4}v1-0 /);
    assert.match(rowOf(mnist, 'v1'), /^ {2}v1 /);
  });

  it('aligns every column: all rows of a table start each cell where the header does', () => {
    for (const service of ['mnist', 'ocr']) {
      const lines = block(text, service).slice(1);
      const variantRows = lines.filter((l) => /^ {2}\S/.test(l) && !l.includes('last rollout decision'));
      const replicaRows = lines.filter((l) => /^ {4}\S/.test(l));
      assert.ok(variantRows.length >= 3, service);
      for (const row of variantRows) assert.deepEqual(starts(row), starts(variantRows[0]!), row);
      // Replica columns line up across the whole service, not just within one variant.
      for (const row of replicaRows) assert.deepEqual(starts(row), starts(replicaRows[0]!), row);
    }
    assert.ok(!text.split('\n').some((l) => l.endsWith(' ')), 'no trailing blanks');
  });

  it('ends with the last ten decisions, aligned, as HH:MM:SS  kind  service/variant  message', () => {
    const lines = text.trimEnd().split('\n');
    const from = lines.indexOf('Recent decisions:');
    assert.ok(from > 0);
    const shown = lines.slice(from + 1);
    assert.equal(shown.length, 10);
    assert.equal(shown[0], '  11:59:50  scale    mnist/v1  decision 2');
    assert.equal(shown[9], '  11:59:59  rollout  mnist     decision 11');
    assert.ok(!text.includes('decision 1\n') && !text.includes('decision 0'));
  });

  it('dates a decision from another day, and handles an empty fleet', () => {
    const old = formatStatus({
      atMs: AT,
      services: [],
      events: [{ atMs: AT - 86_400_000, kind: 'replica', service: 'ocr', variant: 'a', message: 'crashed' }],
    });
    assert.equal(old, 'No services.\n\nRecent decisions:\n  2025-01-14 12:00:00  replica  ocr/a  crashed\n');
    assert.equal(
      formatStatus({ atMs: AT, services: [], events: [] }),
      'No services.\n\nRecent decisions: none\n',
    );
  });
});

describe('formatWeights', () => {
  it('shows weights as shares of the total, to a tenth of a percent', () => {
    assert.equal(
      formatWeights([
        { tag: 'a', weight: 1 },
        { tag: 'b', weight: 2 },
      ]),
      'a 33.3%, b 66.7%',
    );
    assert.equal(formatWeights([{ tag: 'a', weight: 0 }]), 'a 0%');
  });
});

describe('formatStatus: why a rollout holds and why replicas cannot start', () => {
  const [mnist] = report.services;
  const v1 = mnist!.variants[0]!;
  const text = formatStatus({
    ...report,
    services: [
      {
        ...mnist!,
        rollout: { ...mnist!.rollout!, holding: 'step 2/4 (25%) waits for 20 canary requests, has 3' },
        variants: [
          { ...v1, scale: { ...v1.scale!, failure: 'mnist version 7 is not in the repository /srv/models' } },
          ...mnist!.variants.slice(1),
        ],
      },
    ],
  });

  it('says under the service header what the step waits for and has', () => {
    assert.match(text, /^ {2}rollout holds: step 2\/4 \(25%\) waits for 20 canary requests, has 3$/m);
  });

  it("says under the variant's row why its replicas cannot start", () => {
    assert.match(
      text,
      /^ {2}v1 [^\n]*\n {4}replicas cannot start: mnist version 7 is not in the repository \/srv\/models$/m,
    );
  });
});
