import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BenchArgumentError,
  type BenchFlags,
  endpointsFromFlags,
  parseHeaders,
  parseShapes,
  planFromFlags,
  stabilityApplies,
} from '../../src/bench/index.js';

const base: BenchFlags = {
  url: 'http://127.0.0.1:8000',
  grpcUrl: '127.0.0.1:8001',
  model: 'mnist',
  protocol: 'oip',
  measurementInterval: 5000,
  maxWindows: 10,
  stabilityPercentage: 10,
  pipelining: 1,
  timeout: 30000,
  maxInFlight: 10000,
  seed: 1,
};
const flags = (extra: Partial<BenchFlags>): BenchFlags => ({ ...base, ...extra }) as BenchFlags;

describe('planFromFlags', () => {
  it('defaults to a closed loop of one user, ended by the stability rule', () => {
    const plan = planFromFlags(base);
    assert.deepEqual(plan.mode, { kind: 'closed', levels: [1] });
    assert.deepEqual(plan.stability, { windows: 3, tolerance: 0.1 });
    assert.equal(stabilityApplies(plan), true);
  });

  const modes: [string, Partial<BenchFlags>, unknown][] = [
    ['concurrency sweep', { concurrency: '1:16:2' }, { kind: 'closed', levels: [1, 3, 5, 7, 9, 11, 13, 15] }],
    [
      'concurrency with a request count',
      { concurrency: '8', requests: 1000 },
      { kind: 'closed', levels: [8], requests: 1000 },
    ],
    [
      'rate sweep',
      { requestRate: '100:300:100' },
      { kind: 'open', levels: [100, 200, 300], distribution: 'constant' },
    ],
    [
      'poisson rate',
      { requestRate: '50', distribution: 'poisson' },
      { kind: 'open', levels: [50], distribution: 'poisson' },
    ],
    [
      'users',
      { users: 10, spawnRate: 2, duration: 30 },
      { kind: 'users', users: 10, spawnRate: 2, durationMs: 30000 },
    ],
    ['sequential', { requests: 1000 }, { kind: 'sequential', requests: 1000 }],
  ];
  for (const [name, extra, mode] of modes)
    it(name, () => assert.deepEqual(planFromFlags(flags(extra)).mode, mode));

  it('a duration fixes each level and turns the stability rule off', () => {
    const plan = planFromFlags(flags({ requestRate: '300', duration: 4 }));
    assert.equal(plan.levelDurationMs, 4000);
    assert.equal(stabilityApplies(plan), false);
  });

  const bad: [Partial<BenchFlags>, RegExp][] = [
    [{ concurrency: '2', requestRate: '3' }, /--concurrency and --request-rate: choose one/],
    [{ users: 3 }, /--users needs --duration/],
    [{ spawnRate: 3 }, /--spawn-rate needs --users/],
    [{ distribution: 'poisson' }, /--distribution needs --request-rate/],
    [{ requestRate: '10', requests: 5 }, /--requests does not combine with --request-rate/],
    [{ requests: 5, duration: 3 }, /choose one way to end the run/],
    [{ maxViolationRate: 0.1 }, /--max-violation-rate needs --latency-threshold/],
    [{ endpoints: ['http://a:1', 'http://b:2'] }, /needs --max-violation-rate/],
    [{ inputData: 'a.json', dataset: 'b.jsonl' }, /choose one payload/],
    [{ labelOutput: 'probs' }, /--label-output needs --dataset/],
    [{ shape: ['image:1,784'], inputData: 'a.json' }, /--shape shapes random payloads/],
    [{ protocol: 'paddle', modelVersion: '2' }, /Paddle Serving.*has no version/],
    [{ concurrency: '16:1' }, /end 1 is below start 16/],
  ];
  for (const [extra, message] of bad)
    it(`refuses ${JSON.stringify(extra)}`, () =>
      assert.throws(
        () => planFromFlags(flags(extra)),
        (err: unknown) => err instanceof BenchArgumentError && message.test(err.message),
      ));
});

describe('flag lists', () => {
  it('parses --shape name:dims', () => {
    assert.deepEqual(
      [...parseShapes(['image:1,784', 'scalar:'])],
      [
        ['image', [1, 784]],
        ['scalar', []],
      ],
    );
    assert.throws(() => parseShapes(['image']), /expected name:d1,d2/);
    assert.throws(() => parseShapes(['image:1,-1']), /expected name:d1,d2/);
  });

  it('parses --header name:value', () => {
    assert.deepEqual(parseHeaders(['Host: mnist.example.com', 'x-key:a:b']), {
      host: 'mnist.example.com',
      'x-key': 'a:b',
    });
    assert.throws(() => parseHeaders(['nocolon']), /expected name:value/);
    assert.throws(() => parseHeaders(['content-length: 3']), /sets it from the payload/);
  });

  it('normalizes endpoints per protocol', () => {
    assert.deepEqual(endpointsFromFlags(base), ['http://127.0.0.1:8000']);
    assert.deepEqual(endpointsFromFlags(flags({ url: 'http://gw:8080/mnist/' })), ['http://gw:8080/mnist']);
    assert.deepEqual(endpointsFromFlags(flags({ protocol: 'grpc' })), ['127.0.0.1:8001']);
    assert.deepEqual(endpointsFromFlags(flags({ protocol: 'grpc', endpoints: ['grpc://a:1', 'b:2'] })), [
      'a:1',
      'b:2',
    ]);
    // Finding 7: https:// targets, and grpcs:// for gRPC over TLS (kept so the client is built to match).
    assert.deepEqual(endpointsFromFlags(flags({ url: 'https://x:8443' })), ['https://x:8443']);
    assert.deepEqual(endpointsFromFlags(flags({ protocol: 'grpc', grpcUrl: 'grpcs://a:1' })), [
      'grpcs://a:1',
    ]);
    assert.throws(() => endpointsFromFlags(flags({ url: 'ftp://x' })), /only http:\/\/ and https:\/\//);
    assert.throws(() => endpointsFromFlags(flags({ url: 'nope' })), /not a URL/);
    assert.throws(
      () => endpointsFromFlags(flags({ protocol: 'grpc', grpcUrl: 'http://a:1' })),
      /expected host:port/,
    );
  });
});
