import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { FlotillaError } from '../../src/core/index.js';
import {
  PADDLE_RESOURCE_DEFAULTS,
  RENDER_DEFAULTS,
  type RenderedObject,
  type RenderOptions,
  render,
  toPercents,
} from '../../src/render/index.js';
import { validateObject } from '../helpers/k8s-validate.js';

/** Table tests: each scale/rollout/healthCheck/timeouts field and where it lands on each target. */

const IMAGE = 'ghcr.io/example/flotilla:0.1.0';
const A = 'autoscaling.knative.dev';

/** Renders one service `m` with one model variant `s` (extra YAML merged in). */
function renderOne(
  variantExtra: string,
  target: string,
  options: Partial<RenderOptions> = {},
  serviceExtra = '',
): RenderedObject[] {
  const text = `services:
  m:
${serviceExtra
  .split('\n')
  .filter(Boolean)
  .map((l) => `    ${l}`)
  .join('\n')}
    variants:
      - tag: s
        model: { repository: ./models, name: mnist, version: 1 }
${variantExtra
  .split('\n')
  .filter(Boolean)
  .map((l) => `        ${l}`)
  .join('\n')}
`;
  return render(text, 'm.yaml', target, { image: IMAGE, ...options });
}

const find = (objects: readonly RenderedObject[], kind: string): Record<string, unknown> => {
  const o = objects.find((x) => x.kind === kind);
  assert.ok(o, `no ${kind}`);
  return JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
};

/** A dotted path into plain data (`spec.template.spec.containers.0.readinessProbe`). */
function at(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[key];
  return v;
}

const annotations = (objects: readonly RenderedObject[]) =>
  at(find(objects, 'Configuration'), 'spec.template.metadata.annotations') as Record<string, string>;

describe('flotilla render: scale -> Knative autoscaling annotations', () => {
  const cases: [string, string, Record<string, string>][] = [
    ['min', 'scale: { min: 0 }', { [`${A}/min-scale`]: '0' }],
    ['max', 'scale: { max: 7 }', { [`${A}/max-scale`]: '7' }],
    ['initial', 'scale: { initial: 2 }', { [`${A}/initial-scale`]: '2' }],
    ['targetConcurrency', 'scale: { targetConcurrency: 3.5 }', { [`${A}/target`]: '3.5' }],
    [
      'targetUtilization',
      'scale: { targetUtilization: 0.85 }',
      { [`${A}/target-utilization-percentage`]: '85' },
    ],
    ['stableWindow', 'scale: { stableWindow: 2m }', { [`${A}/window`]: '120s' }],
    ['panicWindowPercent', 'scale: { panicWindowPercent: 25 }', { [`${A}/panic-window-percentage`]: '25' }],
    [
      'panicThresholdPercent',
      'scale: { panicThresholdPercent: 300 }',
      { [`${A}/panic-threshold-percentage`]: '300' },
    ],
    [
      'scaleToZeroAfter',
      'scale: { scaleToZeroAfter: 90s }',
      { [`${A}/scale-to-zero-pod-retention-period`]: '90s' },
    ],
  ];
  for (const [field, yaml, expected] of cases) {
    it(`scale.${field}`, () => {
      const got = annotations(renderOne(yaml, 'knative'));
      for (const [k, v] of Object.entries(expected)) assert.equal(got[k], v, k);
    });
  }

  it('the defaults, pinned: KPA on concurrency, 4 × 70 %, 60 s window, 10 % / 200 %, 1..4, retention 30 s', () => {
    const got = annotations(renderOne('', 'knative'));
    assert.deepEqual(Object.fromEntries(Object.entries(got).filter(([k]) => k.startsWith(A))), {
      [`${A}/class`]: 'kpa.autoscaling.knative.dev',
      [`${A}/metric`]: 'concurrency',
      [`${A}/target`]: '4',
      [`${A}/target-utilization-percentage`]: '70',
      [`${A}/window`]: '60s',
      [`${A}/panic-window-percentage`]: '10',
      [`${A}/panic-threshold-percentage`]: '200',
      [`${A}/min-scale`]: '1',
      [`${A}/max-scale`]: '4',
      [`${A}/scale-to-zero-pod-retention-period`]: '30s',
    });
    const spec = at(find(renderOne('', 'knative'), 'Configuration'), 'spec.template.spec') as Record<
      string,
      unknown
    >;
    // targetConcurrency is a soft target: no hard per-replica limit.
    assert.equal(spec['containerConcurrency'], 0);
    assert.equal(spec['timeoutSeconds'], 60);
  });
});

describe('flotilla render: scale -> Kubernetes HPA, KEDA and replicas', () => {
  const hpa = (yaml: string) => find(renderOne(yaml, 'kubernetes'), 'HorizontalPodAutoscaler');
  const keda = (yaml: string) => find(renderOne(yaml, 'kubernetes', { autoscaler: 'keda' }), 'ScaledObject');
  const cases: [string, string, (yaml: string) => Record<string, unknown>, string, unknown][] = [
    ['min', 'scale: { min: 2 }', hpa, 'spec.minReplicas', 2],
    ['min 0 (an HPA cannot scale to zero)', 'scale: { min: 0 }', hpa, 'spec.minReplicas', 1],
    ['min 0 on KEDA', 'scale: { min: 0 }', keda, 'spec.minReplicaCount', 0],
    ['max', 'scale: { max: 9 }', hpa, 'spec.maxReplicas', 9],
    ['max on KEDA', 'scale: { max: 9 }', keda, 'spec.maxReplicaCount', 9],
    [
      'targetConcurrency × targetUtilization',
      'scale: { targetConcurrency: 10, targetUtilization: 0.5 }',
      hpa,
      'spec.metrics.0.external.target.averageValue',
      '5',
    ],
    [
      'a fractional target in milli-units',
      'scale: { targetConcurrency: 8, targetUtilization: 0.7 }',
      hpa,
      'spec.metrics.0.external.target.averageValue',
      '5600m',
    ],
    [
      'targetConcurrency on KEDA',
      'scale: { targetConcurrency: 8, targetUtilization: 0.7 }',
      keda,
      'spec.triggers.0.metadata.threshold',
      '5.6',
    ],
    [
      'stableWindow',
      'scale: { stableWindow: 45s }',
      hpa,
      'spec.behavior.scaleDown.stabilizationWindowSeconds',
      45,
    ],
    ['maxScaleUpRate', 'scale: { maxScaleUpRate: 3 }', hpa, 'spec.behavior.scaleUp.policies.0.value', 200],
    [
      'maxScaleDownRate',
      'scale: { maxScaleDownRate: 4 }',
      hpa,
      'spec.behavior.scaleDown.policies.0.value',
      75,
    ],
    ['scaleToZeroAfter on KEDA', 'scale: { scaleToZeroAfter: 2m }', keda, 'spec.cooldownPeriod', 120],
  ];
  for (const [name, yaml, get, path, expected] of cases) {
    it(name, () => assert.deepEqual(at(get(yaml), path), expected));
  }

  it('the in-flight metric is the gateway per service and variant', () => {
    assert.deepEqual(at(hpa(''), 'spec.metrics.0.external.metric'), {
      name: 'flotilla_gateway_variant_in_flight',
      selector: { matchLabels: { service: 'm', variant: 's' } },
    });
    assert.equal(
      at(keda(''), 'spec.triggers.0.metadata.query'),
      'sum(flotilla_gateway_variant_in_flight{service="m",variant="s"})',
    );
  });

  it('under an autoscaler the Deployment has no replicas (an apply never undoes a scale); with none, initial or min', () => {
    assert.equal(at(find(renderOne('', 'kubernetes'), 'Deployment'), 'spec.replicas'), undefined);
    const none = (yaml: string) =>
      at(find(renderOne(yaml, 'kubernetes', { autoscaler: 'none' }), 'Deployment'), 'spec.replicas');
    assert.equal(none('scale: { initial: 3 }'), 3);
    assert.equal(none('scale: { min: 2 }'), 2);
    assert.equal(none('scale: { min: 0 }'), 1);
    const kinds = renderOne('', 'kubernetes', { autoscaler: 'none' }).map((o) => o.kind);
    assert.ok(!kinds.includes('HorizontalPodAutoscaler') && !kinds.includes('ScaledObject'));
  });
});

describe('flotilla render: defaults', () => {
  it('pins every default of flotilla render', () => {
    assert.deepEqual(RENDER_DEFAULTS, {
      namespace: 'default',
      domain: 'example.com',
      models: { kind: 'image' },
      autoscaler: 'hpa',
      serviceType: 'LoadBalancer',
      prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
      modelRepositoryPath: '/models',
      httpPort: 8080,
      grpcPort: 8081,
      gatewayHttpPort: 8080,
      gatewayGrpcPort: 8081,
      gatewayReplicas: 2,
      drainMarginS: 10,
      gatewayName: 'flotilla-gateway',
    });
    assert.deepEqual(PADDLE_RESOURCE_DEFAULTS, { cpu: '0.1', memory: '128Mi' });
  });
});

describe('flotilla render: host and path', () => {
  it('knative: a host other than the Route own becomes a DomainMapping to the Route; path is not rendered', () => {
    const objects = renderOne(
      '',
      'knative',
      {},
      'host: [mnist.example.com, m.default.example.com]\npath: /mnist',
    );
    const mappings = objects.filter((o) => o.kind === 'DomainMapping');
    assert.deepEqual(
      mappings.map((o) => [o.metadata.name, at(o, 'spec.ref')]),
      [['mnist.example.com', { apiVersion: 'serving.knative.dev/v1', kind: 'Route', name: 'm' }]],
    );
    validateObject(mappings[0]!);
    assert.ok(!JSON.stringify(objects).includes('/mnist'));
  });
  it('kubernetes: the gateway keeps host and path', () => {
    const cm = find(renderOne('', 'kubernetes', {}, 'host: mnist.example.com\npath: /mnist'), 'ConfigMap');
    const file = parseYaml((cm['data'] as Record<string, string>)['services.yaml']!) as unknown;
    assert.deepEqual(at(file, 'services.m.host'), ['mnist.example.com']);
    assert.equal(at(file, 'services.m.path'), '/mnist');
  });
});

describe('flotilla render: command variants', () => {
  const text = 'services:\n  c:\n    variants:\n      - { tag: a, command: "node server.js --port $PORT" }\n';
  it('run by a shell in the Flotilla image; $PORT set on kubernetes, left to Knative on knative', () => {
    const kn = find(render(text, 'c.yaml', 'knative', { image: IMAGE }), 'Configuration');
    const container = at(kn, 'spec.template.spec.containers.0') as Record<string, unknown>;
    assert.deepEqual(
      [container['image'], container['command'], container['args']],
      [IMAGE, ['/bin/sh', '-c'], ['node server.js --port $PORT']],
    );
    assert.equal(container['env'], undefined);
    const dep = find(render(text, 'c.yaml', 'kubernetes', { image: IMAGE }), 'Deployment');
    assert.deepEqual(at(dep, 'spec.template.spec.containers.0.env'), [{ name: 'PORT', value: '8080' }]);
  });
});

describe('flotilla render: PaddleService fields', () => {
  const ps = (service: string, endpoint = '') =>
    `apiVersion: elasticserving.paddlepaddle.org/v1
kind: PaddleService
metadata: { name: p, namespace: ns }
spec:
  default: { containerImage: img, tag: "1", port: 9000${endpoint} }
  service: ${service}
`;
  it('ElasticServing defaults: KPA, concurrency 100 × 70 %, window 60s, 1..10, no hard limit', () => {
    const objects = render(ps('{}'), 'p.yaml', 'knative');
    const got = annotations(objects);
    assert.equal(got[`${A}/target`], '100');
    assert.equal(got[`${A}/window`], '60s');
    assert.equal(got[`${A}/min-scale`], '1');
    assert.equal(got[`${A}/max-scale`], '10');
    assert.equal(got[`${A}/scale-to-zero-pod-retention-period`], undefined);
    assert.equal(at(find(objects, 'Configuration'), 'spec.template.spec.containerConcurrency'), 0);
    assert.equal(at(find(objects, 'Configuration'), 'spec.template.spec.containers.0.image'), 'img:1');
  });
  it('service.target is also containerConcurrency, as ElasticServing sets it', () => {
    const c = find(render(ps('{ target: 5 }'), 'p.yaml', 'knative'), 'Configuration');
    assert.equal(at(c, 'spec.template.spec.containerConcurrency'), 5);
  });
  it('the HPA class on cpu: Knative annotations, and a CPU HPA on kubernetes', () => {
    const service = '{ autoscaler: hpa.autoscaling.knative.dev, metric: cpu, target: 60 }';
    const got = annotations(render(ps(service), 'p.yaml', 'knative'));
    assert.equal(got[`${A}/class`], 'hpa.autoscaling.knative.dev');
    assert.equal(got[`${A}/metric`], 'cpu');
    const h = find(render(ps(service), 'p.yaml', 'kubernetes', { image: IMAGE }), 'HorizontalPodAutoscaler');
    assert.deepEqual(at(h, 'spec.metrics.0'), {
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
    });
  });
  it("the container image wins over Flotilla's command: stand-in", () => {
    const c = find(render(ps('{}', ', command: "node x.js"'), 'p.yaml', 'knative'), 'Configuration');
    assert.equal(at(c, 'spec.template.spec.containers.0.image'), 'img:1');
  });
  it('resources: ElasticServing fills cpu 0.1 and memory 128Mi into requests and limits', () => {
    const c = find(
      render(ps('{}', ', resources: { limits: { cpu: "2" } }'), 'p.yaml', 'knative'),
      'Configuration',
    );
    assert.deepEqual(at(c, 'spec.template.spec.containers.0.resources'), {
      requests: { cpu: '0.1', memory: '128Mi' },
      limits: { cpu: '2', memory: '128Mi' },
    });
  });
  it('a namespace flag wins over the PaddleService namespace; the gateway routes its Knative host', () => {
    const objects = render(ps('{}'), 'p.yaml', 'kubernetes', { image: IMAGE, namespace: 'prod' });
    assert.ok(objects.every((o) => o.metadata.namespace === 'prod'));
    const file = parseYaml((find(objects, 'ConfigMap')['data'] as Record<string, string>)['services.yaml']!);
    assert.deepEqual(at(file, 'services.p.host'), ['p.prod.example.com']);
    assert.equal(at(file, 'services.p.variants.0.endpoints'), 'dns://p-default.prod.svc.cluster.local:9000');
  });
});

describe('flotilla render: healthCheck and timeouts', () => {
  const probe = (target: string, serviceExtra: string) =>
    at(
      find(renderOne('', target, {}, serviceExtra), target === 'knative' ? 'Configuration' : 'Deployment'),
      'spec.template.spec.containers.0.readinessProbe',
    );
  it('healthCheck fields -> the readiness probe, on both targets', () => {
    const hc =
      'healthCheck: { path: /v2/models/mnist/ready, interval: 5s, timeout: 2s, healthyThreshold: 2, unhealthyThreshold: 4 }';
    assert.deepEqual(probe('knative', hc), {
      httpGet: { path: '/v2/models/mnist/ready' },
      periodSeconds: 5,
      timeoutSeconds: 2,
      successThreshold: 2,
      failureThreshold: 4,
    });
    assert.deepEqual(probe('kubernetes', hc), {
      httpGet: { path: '/v2/models/mnist/ready', port: 8080 },
      periodSeconds: 5,
      timeoutSeconds: 2,
      successThreshold: 2,
      failureThreshold: 4,
    });
  });
  it('healthCheck: false leaves the cluster its default probe', () => {
    assert.equal(probe('knative', 'healthCheck: false'), undefined);
    assert.equal(probe('kubernetes', 'healthCheck: false'), undefined);
  });
  it('the gateway keeps the health check in its service file', () => {
    const cm = find(renderOne('', 'kubernetes', {}, 'healthCheck: { interval: 3s }'), 'ConfigMap');
    const file = parseYaml((cm['data'] as Record<string, string>)['services.yaml']!) as unknown;
    assert.deepEqual(at(file, 'services.m.healthCheck'), {
      path: '/v2/health/ready',
      interval: '3000ms',
      timeout: '1000ms',
      healthyThreshold: 1,
      unhealthyThreshold: 2,
    });
  });
  it('timeouts.total -> Knative timeoutSeconds; pods get longer than that to drain', () => {
    const kn = find(renderOne('', 'knative', {}, 'timeouts: { total: 90s }'), 'Configuration');
    assert.equal(at(kn, 'spec.template.spec.timeoutSeconds'), 90);
    const dep = find(renderOne('', 'kubernetes', {}, 'timeouts: { total: 90s }'), 'Deployment');
    assert.equal(at(dep, 'spec.template.spec.terminationGracePeriodSeconds'), 100);
    // A short request timeout still leaves serve its whole drain limit (30 s) and the margin.
    const short = find(renderOne('', 'kubernetes', {}, 'timeouts: { total: 5s }'), 'Deployment');
    assert.equal(at(short, 'spec.template.spec.terminationGracePeriodSeconds'), 40);
  });
});

describe('flotilla render: rollout and weights', () => {
  const two = `services:
  m:
    slo: { latencyMs: 50, errorRate: 0.01 }
    variants:
      - { tag: stable, weight: 2, model: { repository: ./r, name: mnist, version: 1 } }
      - { tag: canary, weight: 1, model: { repository: ./r, name: mnist, version: 2 } }
    rollout: { steps: [10, 50, 100], interval: 30s }
`;
  it('Knative: the Route starts at the written weights, one tag per variant, in whole percents adding to 100', () => {
    const route = find(render(two, 'r.yaml', 'knative', { image: IMAGE }), 'Route');
    assert.deepEqual(at(route, 'spec.traffic'), [
      { configurationName: 'm-stable', latestRevision: true, percent: 67, tag: 'stable' },
      { configurationName: 'm-canary', latestRevision: true, percent: 33, tag: 'canary' },
    ]);
  });
  it('kubernetes: the gateway file keeps the weights and leaves the rollout out', () => {
    const cm = find(render(two, 'r.yaml', 'kubernetes', { image: IMAGE }), 'ConfigMap');
    const file = parseYaml((cm['data'] as Record<string, string>)['services.yaml']!) as unknown;
    assert.equal(at(file, 'services.m.rollout'), undefined);
    assert.deepEqual(
      (at(file, 'services.m.variants') as Record<string, unknown>[]).map((v) => [
        v['tag'],
        v['weight'],
        v['endpoints'],
      ]),
      [
        ['stable', 2, 'dns://m-stable.default.svc.cluster.local:8080'],
        ['canary', 1, 'dns://m-canary.default.svc.cluster.local:8080'],
      ],
    );
  });
  it('toPercents: largest remainder, exact sum, ties to the earlier variant', () => {
    const cases: [number[], number[]][] = [
      [
        [90, 10],
        [90, 10],
      ],
      [
        [1, 1, 1],
        [34, 33, 33],
      ],
      [
        [2, 1],
        [67, 33],
      ],
      [
        [1, 0],
        [100, 0],
      ],
      [
        [0.5, 0.5],
        [50, 50],
      ],
      [
        [1, 1, 1, 1, 1, 1],
        [17, 17, 17, 17, 16, 16],
      ],
    ];
    for (const [weights, expected] of cases) {
      const got = toPercents(weights);
      assert.deepEqual(got, expected, weights.join(','));
      assert.equal(
        got.reduce((a, b) => a + b, 0),
        100,
      );
    }
  });
});

describe('flotilla render: what a target cannot express is an error naming field and target', () => {
  const svc = (body: string) => `services:\n${body}`;
  const model = '{ repository: ./r, name: mnist, version: 1 }';
  const cases: [string, string, string, Partial<RenderOptions> | 'no-image', RegExp][] = [
    [
      'mirror on knative',
      svc(
        `  m:\n    mirror: { variant: b, percent: 5 }\n    variants:\n      - { tag: a, model: ${model} }\n      - { tag: b, model: ${model} }\n`,
      ),
      'knative',
      {},
      /services\.m\.mirror: --target knative has no traffic mirroring/,
    ],
    [
      'static endpoints on knative',
      svc('  m:\n    variants:\n      - { tag: a, endpoints: "list://10.0.0.1:8000" }\n'),
      'knative',
      {},
      /services\.m\.variants\[0\]\.endpoints: --target knative routes to revisions only/,
    ],
    [
      'retry on knative',
      svc(`  m:\n    retry: { maxRetries: 0 }\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      {},
      /services\.m\.retry: --target knative has no retry policy/,
    ],
    [
      'balancer on knative',
      svc(`  m:\n    balancer: round_robin\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      {},
      /services\.m\.balancer: --target knative/,
    ],
    [
      'outlierDetection on knative',
      svc(`  m:\n    outlierDetection: false\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      {},
      /services\.m\.outlierDetection: --target knative has no outlier ejection/,
    ],
    [
      'timeouts.perTry on knative',
      svc(`  m:\n    timeouts: { perTry: 5s }\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      {},
      /services\.m\.timeouts\.perTry: --target knative has no per-try timeout/,
    ],
    [
      'maxScaleUpRate on knative',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model}, scale: { maxScaleUpRate: 10 } }\n`),
      'knative',
      {},
      /services\.m\.variants\[0\]\.scale\.maxScaleUpRate: --target knative has no per-revision max scale-up rate/,
    ],
    [
      'a window below 6s on knative',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model}, scale: { stableWindow: 5s } }\n`),
      'knative',
      {},
      /scale\.stableWindow: --target knative takes a window from 6s to 1h \(got 5s\)/,
    ],
    [
      'a window in milliseconds on knative',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model}, scale: { stableWindow: 6500ms } }\n`),
      'knative',
      {},
      /scale\.stableWindow: --target knative takes a window in whole seconds/,
    ],
    [
      'a panic threshold Knative refuses',
      svc(
        `  m:\n    variants:\n      - { tag: a, model: ${model}, scale: { panicThresholdPercent: 105 } }\n`,
      ),
      'knative',
      {},
      /scale\.panicThresholdPercent: --target knative takes 110 to 1000 \(got 105\)/,
    ],
    [
      'panic mode on an HPA',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model}, scale: { panicWindowPercent: 20 } }\n`),
      'kubernetes',
      {},
      /scale\.panicWindowPercent: --target kubernetes --autoscaler hpa has no panic mode/,
    ],
    [
      'model variants without --image (knative)',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      'no-image',
      /services\.m\.variants\[0\]\.model: --target knative runs model variants in the Flotilla image: give --image IMAGE/,
    ],
    [
      'command variants without --image (kubernetes)',
      svc('  m:\n    variants:\n      - { tag: a, command: "node server.js" }\n'),
      'kubernetes',
      'no-image',
      /services\.m\.variants\[0\]\.command: --target kubernetes runs command variants in the Flotilla image: give --image IMAGE/,
    ],
    [
      'a service name that is not DNS-1123',
      svc(`  my_model:\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      {},
      /services\.my_model: "my_model" is not a valid Kubernetes name for --target knative/,
    ],
    [
      'a tag that makes an invalid object name',
      svc(`  m:\n    variants:\n      - { tag: Stable, model: ${model} }\n`),
      'kubernetes',
      {},
      /services\.m\.variants\[0\]\.tag \(object name m-Stable\): "m-Stable" is not a valid Kubernetes name/,
    ],
    [
      'two variants whose object names meet',
      svc(
        `  a:\n    variants:\n      - { tag: b-c, model: ${model} }\n  a-b:\n    variants:\n      - { tag: c, model: ${model} }\n`,
      ),
      'kubernetes',
      {},
      /two objects would be Deployment a-b-c/,
    ],
    [
      '--models uri: outside KServe',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      { models: { kind: 'uri', uri: 's3://bucket/models' } },
      /--models uri:s3:\/\/bucket\/models: --target knative has no storage initializer/,
    ],
    [
      '--autoscaler on knative',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'knative',
      { autoscaler: 'keda' },
      /--autoscaler keda: a flag of --target kubernetes, not of --target knative/,
    ],
    [
      'an unknown target',
      svc(`  m:\n    variants:\n      - { tag: a, model: ${model} }\n`),
      'swarm',
      {},
      /--target swarm: unknown target; the targets are knative, kserve, kubernetes/,
    ],
    [
      'a PaddleService with no default',
      'apiVersion: elasticserving.paddlepaddle.org/v1\nkind: PaddleService\nmetadata: { name: p }\nspec: { canary: { containerImage: x } }\n',
      'knative',
      {},
      /document 1 \(PaddleService p\): spec\.default/,
    ],
    [
      'a PaddleService storageUri outside KServe',
      'apiVersion: elasticserving.paddlepaddle.org/v1\nkind: PaddleService\nmetadata: { name: p }\nspec: { default: { containerImage: x, storageUri: "s3://b/m" } }\n',
      'kubernetes',
      {},
      /spec\.default\.storageUri: --target kubernetes has no storage initializer/,
    ],
  ];
  for (const [name, text, target, options, message] of cases) {
    it(name, () => {
      const opts = options === 'no-image' ? {} : { image: IMAGE, ...options };
      assert.throws(
        () => render(text, 'f.yaml', target, opts),
        (err: unknown) => {
          assert.ok(err instanceof FlotillaError, String(err));
          assert.match(err.message, message);
          assert.ok(['FLT_RENDER_UNMAPPABLE', 'FLT_CONFIG_INVALID'].includes(err.code), err.code);
          assert.ok(!err.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }
});
