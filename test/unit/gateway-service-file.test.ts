import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ConfigError } from '../../src/core/index.js';
import { checkStaticOnly } from '../../src/gateway/index.js';
import {
  parseEndpoints,
  parsePaddleWeights,
  parseServiceFile,
  parseServiceFileYaml,
  SERVICE_FILE_DEFAULTS,
} from '../../src/spec/index.js';
import { ROOT } from '../helpers/paths.js';

const fixture = (name: string): string => `${ROOT}test/fixtures/services/${name}`;
const load = (name: string) => parseServiceFileYaml(readFileSync(fixture(name), 'utf8'), name);

/** The message of the ConfigError a raw service file raises. */
function errorOf(raw: unknown): string {
  try {
    parseServiceFile(raw, 'services.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'FLT_CONFIG_INVALID');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

const one = (variant: Record<string, unknown>, service: Record<string, unknown> = {}) => ({
  services: { mnist: { variants: [variant], ...service } },
});
const ep = { tag: 'a', endpoints: '127.0.0.1:1' };

describe('service file', () => {
  it("takes DESIGN.md's example verbatim", () => {
    const f = load('design-example.yaml');
    const mnist = f.services[0]!;
    assert.deepEqual(mnist.hosts, ['mnist.example.com']);
    assert.equal(mnist.path, '/mnist');
    assert.deepEqual(mnist.slo, { latencyMs: 50, errorRate: 0.01 });
    assert.deepEqual(mnist.rollout, { steps: [10, 25, 50, 100], intervalMs: 30_000, minRequests: 20 });
    const [stable, canary] = mnist.variants;
    assert.deepEqual(stable!.runs, {
      kind: 'model',
      repository: './examples/models',
      name: 'mnist',
      version: 1,
    });
    assert.equal(stable!.modelVersion, '1');
    assert.equal(stable!.scale!.targetConcurrency, 4);
    assert.equal(canary!.scale!.min, 0);
    assert.equal(canary!.scale!.scaleToZeroAfterMs, 30_000);
    assert.equal(canary!.scale!.stableWindowMs, SERVICE_FILE_DEFAULTS.scale.stableWindowMs);
    const legacy = f.services[1]!;
    assert.deepEqual(
      legacy.variants.map((v) => [v.tag, v.weight, v.runs.kind]),
      [
        ['var1', 1, 'endpoints'],
        ['var2', 1, 'command'],
      ],
    );
  });

  it('resolves the static example with defaults in one place', () => {
    const f = load('static.yaml');
    const [mnist, ximage] = f.services;
    assert.deepEqual(
      mnist!.variants.map(
        (v) => v.runs.kind === 'endpoints' && v.runs.endpoints.map((a) => `${a.host}:${a.port}`),
      ),
      [['127.0.0.1:8010', '127.0.0.1:8011'], ['127.0.0.1:8012']],
    );
    assert.deepEqual(mnist!.healthCheck, { ...SERVICE_FILE_DEFAULTS.healthCheck });
    assert.deepEqual(mnist!.outlierDetection, { ...SERVICE_FILE_DEFAULTS.outlierDetection });
    assert.deepEqual(mnist!.retry, { ...SERVICE_FILE_DEFAULTS.retry });
    assert.equal(mnist!.balancer, 'least_request');
    assert.deepEqual(
      ximage!.variants.map((v) => v.weight),
      [50, 50],
    );
    assert.deepEqual(ximage!.healthCheck, {
      ...SERVICE_FILE_DEFAULTS.healthCheck,
      path: '/v2/health/live',
      intervalMs: 500,
      unhealthyThreshold: 3,
    });
    assert.equal(ximage!.outlierDetection!.baseEjectionTimeMs, 10_000);
    assert.deepEqual(ximage!.timeouts, { perTryMs: 5000, totalMs: 20_000 });
    assert.equal(ximage!.variants[0]!.modelName, 'resnet');
    assert.equal(ximage!.variants[0]!.modelVersion, '3');
    assert.equal(ximage!.variants[1]!.modelName, 'ximage');
    checkStaticOnly(f);
  });

  it('pins the defaults', () => {
    assert.deepEqual(SERVICE_FILE_DEFAULTS.retry, {
      maxRetries: 2,
      budgetPercent: 20,
      minRetryConcurrency: 10,
    });
    assert.deepEqual(SERVICE_FILE_DEFAULTS.healthCheck, {
      path: '/v2/health/ready',
      intervalMs: 2000,
      timeoutMs: 1000,
      healthyThreshold: 1,
      unhealthyThreshold: 2,
    });
    assert.equal(SERVICE_FILE_DEFAULTS.outlierDetection.maxEjectionPercent, 50);
    assert.deepEqual(SERVICE_FILE_DEFAULTS.timeouts, { perTryMs: 30_000, totalMs: 60_000 });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'unknown key',
      one({ ...ep, wieght: 3 }),
      /services\.yaml: services\.mnist\.variants\[0\]: Unrecognized key: "wieght"/,
    ],
    [
      'negative weight',
      {
        services: {
          mnist: {
            variants: [
              { ...ep, weight: 1 },
              { ...ep, tag: 'b', weight: -1 },
            ],
          },
        },
      },
      /services\.mnist\.variants\[1\]\.weight: Too small.*\(got -1\)/,
    ],
    [
      'duplicate tag',
      { services: { mnist: { variants: [ep, ep] } } },
      /services\.mnist\.variants\[1\]\.tag: tag a is used twice/,
    ],
    [
      'no runner',
      one({ tag: 'a' }),
      /services\.mnist\.variants\[0\]: a variant has exactly one of model, command or endpoints \(it has none\)/,
    ],
    ['two runners', one({ ...ep, command: 'x' }), /it has command and endpoints/],
    [
      'bad endpoint',
      one({ tag: 'a', endpoints: 'list://127.0.0.1:1, nope' }),
      /services\.mnist\.variants\[0\]\.endpoints: "nope" is not host:port/,
    ],
    ['port out of range', one({ tag: 'a', endpoints: '127.0.0.1:70000' }), /is not host:port/],
    [
      'paddle weights count',
      { services: { mnist: { weights: '50 | 50', variants: [ep] } } },
      /services\.mnist\.weights: 2 weights for 1 variants/,
    ],
    [
      'paddle weights zero',
      { services: { mnist: { weights: '0 | 0', variants: [ep, { ...ep, tag: 'b' }] } } },
      /services\.mnist\.weights: the weights add up to 0/,
    ],
    [
      'paddle weights not integers',
      { services: { mnist: { weights: '50 | x', variants: [ep, { ...ep, tag: 'b' }] } } },
      /"x" is not a non-negative integer weight/,
    ],
    [
      'weights twice',
      { services: { mnist: { weights: '1', variants: [{ ...ep, weight: 1 }] } } },
      /either here or on each variant/,
    ],
    [
      'some weights',
      {
        services: {
          mnist: {
            variants: [
              { ...ep, weight: 1 },
              { ...ep, tag: 'b' },
            ],
          },
        },
      },
      /services\.mnist\.variants: give every variant a weight, or none/,
    ],
    ['all zero', { services: { mnist: { variants: [{ ...ep, weight: 0 }] } } }, /add up to 0/],
    [
      'duration without unit',
      one(ep, { healthCheck: { interval: 5 } }),
      /services\.mnist\.healthCheck\.interval: Invalid input: expected string, received number \(got 5\)/,
    ],
    [
      'duration bad unit',
      one(ep, { timeouts: { total: '5 parsecs' } }),
      /services\.mnist\.timeouts\.total: a duration with a unit is expected/,
    ],
    [
      'mirror unknown',
      one(ep, { mirror: { variant: 'z', percent: 5 } }),
      /services\.mnist\.mirror\.variant: no variant tagged z; tags: a/,
    ],
    ['path', one(ep, { path: 'mnist/' }), /services\.mnist\.path: a path prefix such as \/mnist/],
    [
      'service name',
      { services: { 'a/b': { variants: [ep] } } },
      /services\.a\/b: a service name has letters, digits/,
    ],
    [
      'scale on endpoints',
      one({ ...ep, scale: { min: 1 } }),
      /services\.mnist\.variants\[0\]\.scale: static endpoints do not scale/,
    ],
    [
      'grpc count',
      one({ ...ep, grpcEndpoints: '127.0.0.1:2, 127.0.0.1:3' }),
      /grpcEndpoints: one gRPC address per address in endpoints/,
    ],
    [
      'rollout order',
      one(ep, { rollout: { steps: [50, 10], interval: '1m' } }),
      /services\.mnist\.rollout\.steps: steps must increase/,
    ],
    [
      'rollout of one variant',
      one(ep, { slo: { latencyMs: 50, errorRate: 0.01 }, rollout: { steps: [50, 100], interval: '1m' } }),
      /services\.mnist\.rollout: a progressive rollout moves traffic between two variants .* has 1/,
    ],
    [
      'rollout without slo',
      {
        services: {
          mnist: {
            variants: [
              { ...ep, tag: 'a' },
              { ...ep, tag: 'b' },
            ],
            rollout: { steps: [50, 100], interval: '1m' },
          },
        },
      },
      /services\.mnist\.rollout: a progressive rollout is judged against the service slo/,
    ],
    ['no services', { services: {} }, /services: no service defined/],
    [
      'same route',
      { services: { a: { path: '/x', variants: [ep] }, b: { path: '/x', variants: [ep] } } },
      /services\.b: routes the same host and path as a/,
    ],
  ];
  for (const [what, raw, message] of bad) {
    it(`rejects ${what}, naming the file, service and field`, () => assert.match(errorOf(raw), message));
  }

  it('refuses model and command variants in `flotilla gateway`', () => {
    assert.throws(
      () => checkStaticOnly(load('design-example.yaml')),
      /design-example\.yaml: services\.mnist\.variants\[0\]: variant `stable` runs a model: start it with `flotilla up`/,
    );
    const cmd = parseServiceFile(
      parse('services: { x: { variants: [{ tag: t, command: "node s.js" }] } }'),
      'f.yaml',
    );
    assert.throws(() => checkStaticOnly(cmd), /variant `t` runs a command: start it with `flotilla up`/);
  });

  it("parses Paddle's cluster lists and weight lists", () => {
    assert.deepEqual(parseEndpoints('list://127.0.0.1:8010, 127.0.0.1:8011'), [
      { host: '127.0.0.1', port: 8010 },
      { host: '127.0.0.1', port: 8011 },
    ]);
    assert.deepEqual(parseEndpoints(['[::1]:9000', 'localhost:1']), [
      { host: '[::1]', port: 9000 },
      { host: 'localhost', port: 1 },
    ]);
    assert.throws(() => parseEndpoints('list://'), /no address given/);
    assert.deepEqual(parsePaddleWeights('50 | 50', 2), [50, 50]);
    assert.deepEqual(parsePaddleWeights('50', 1), [50]);
    assert.deepEqual(parsePaddleWeights(' 0|10 | 3 ', 3), [0, 10, 3]);
    assert.throws(() => parsePaddleWeights('50 | 50', 3), /2 weights for 3 variants/);
    assert.throws(() => parsePaddleWeights('1.5 | 2', 2), /"1.5" is not a non-negative integer weight/);
    assert.throws(() => parsePaddleWeights('-1 | 2', 2), /"-1" is not/);
  });

  it('names the file when the YAML does not parse', () => {
    assert.throws(() => parseServiceFileYaml('services: [', 'broken.yaml'), /broken\.yaml: not valid YAML/);
  });
});
