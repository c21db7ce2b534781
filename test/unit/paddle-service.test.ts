import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../src/core/index.js';
import {
  PADDLE_SERVICE_DEFAULTS,
  paddleServiceToServiceFile,
  parseServiceFileYaml,
  parseServiceYaml,
  SERVICE_FILE_DEFAULTS,
  type ServiceFile,
} from '../../src/spec/index.js';
import { ROOT } from '../helpers/paths.js';

/** ElasticServing's sample, verbatim: container images only. */
const SEED = `apiVersion: v1
kind: Namespace
metadata:
  labels:
    control-plane: controller-manager
  name: paddleservice-system
---
apiVersion: elasticserving.paddlepaddle.org/v1
kind: PaddleService
metadata:
  name: paddleservice-sample
  namespace: paddleservice-system
spec:
  canary:
    arg: cd Serving/python/examples/imagenet && python3 resnet50_web_service_canary.py ResNet50_vd_model cpu 9292
    containerImage: jinmionhaobaidu/resnetcanary
    port: 9292
    tag: latest
  canaryTrafficPercent: 50
  default:
    arg: cd Serving/python/examples/imagenet && python3 resnet50_web_service.py ResNet50_vd_model cpu 9292
    containerImage: jinmionhaobaidu/resnet
    port: 9292
    tag: latest
  runtimeVersion: paddleserving
  service:
    minScale: 0
    window: 10s
`;

type Json = Record<string, unknown>;
const fixture = (name: string): string => `${ROOT}test/fixtures/services/${name}`;
const seedDocs = (): Json[] => parseAllDocuments(SEED).map((d) => d.toJS() as Json);

/** The seed's PaddleService document, changed by `edit` (which may mutate it). */
function paddle(edit: (ps: { metadata: Json; spec: Json }) => void = () => {}): Json {
  const ps = seedDocs()[1] as { metadata: Json; spec: Json };
  for (const key of ['default', 'canary'] as const)
    (ps.spec[key] as Json)['command'] = `node server.js --${key} --port $PORT`;
  edit(ps);
  return ps;
}

const map = (...docs: unknown[]): ServiceFile => paddleServiceToServiceFile(docs, 'ps.yaml');

/** The message of the ConfigError that `run` throws. */
function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'FLT_CONFIG_INVALID');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe("ElasticServing's PaddleService", () => {
  it('maps the sample onto one service with Knative host routing and ElasticServing scaling', () => {
    const f = map(seedDocs()[0], paddle());
    assert.equal(f.file, 'ps.yaml');
    assert.equal(f.services.length, 1);
    const svc = f.services[0]!;
    assert.equal(svc.name, 'paddleservice-sample');
    assert.deepEqual(svc.hosts, ['paddleservice-sample.paddleservice-system.example.com']);
    assert.equal(svc.path, undefined);
    assert.deepEqual(
      svc.variants.map((v) => [v.tag, v.weight, v.runs]),
      [
        ['default', 50, { kind: 'command', command: 'node server.js --default --port $PORT' }],
        ['canary', 50, { kind: 'command', command: 'node server.js --canary --port $PORT' }],
      ],
    );
    const d = SERVICE_FILE_DEFAULTS.scale;
    for (const v of svc.variants) {
      assert.deepEqual(v.scale, {
        min: 0,
        max: 10,
        targetConcurrency: 100,
        targetUtilization: 0.7,
        stableWindowMs: 10_000,
        panicWindowPercent: 10,
        panicThresholdPercent: 200,
        maxScaleUpRate: d.maxScaleUpRate,
        maxScaleDownRate: d.maxScaleDownRate,
        scaleToZeroAfterMs: d.scaleToZeroAfterMs,
        scaleDownDelayMs: d.scaleDownDelayMs,
        activationScale: d.activationScale,
        containerConcurrency: d.containerConcurrency,
      });
    }
    assert.equal(svc.balancer, SERVICE_FILE_DEFAULTS.balancer);
    assert.deepEqual(svc.healthCheck, { ...SERVICE_FILE_DEFAULTS.healthCheck });
    assert.deepEqual(svc.outlierDetection, { ...SERVICE_FILE_DEFAULTS.outlierDetection });
    assert.deepEqual(svc.retry, { ...SERVICE_FILE_DEFAULTS.retry });
    assert.deepEqual(svc.timeouts, { ...SERVICE_FILE_DEFAULTS.timeouts });
  });

  it('reads the fixture file: the Namespace document is skipped, the commands run http-ok.mjs', () => {
    const f = parseServiceYaml(readFileSync(fixture('paddleservice-sample.yaml'), 'utf8'), 'sample.yaml');
    assert.equal(f.file, 'sample.yaml');
    const [svc, ...rest] = f.services;
    assert.equal(rest.length, 0);
    assert.equal(svc!.name, 'paddleservice-sample');
    assert.deepEqual(svc!.hosts, ['paddleservice-sample.paddleservice-system.example.com']);
    assert.deepEqual(
      svc!.variants.map((v) => [v.tag, v.weight, v.runs.kind, v.scale?.min, v.scale?.stableWindowMs]),
      [
        ['default', 50, 'command', 0, 10_000],
        ['canary', 50, 'command', 0, 10_000],
      ],
    );
    for (const v of svc!.variants)
      assert.match(
        v.runs.kind === 'command' ? v.runs.command : '',
        /^node test\/fixtures\/replicas\/http-ok\.mjs/,
      );
  });

  it("applies ElasticServing's defaults, not Flotilla's, when service and namespace are absent", () => {
    const svc = map(
      paddle((ps) => {
        delete ps.metadata['namespace'];
        delete ps.spec['service'];
        delete ps.spec['canary'];
        delete ps.spec['canaryTrafficPercent'];
      }),
    ).services[0]!;
    assert.deepEqual(svc.hosts, ['paddleservice-sample.default.example.com']);
    assert.deepEqual(
      svc.variants.map((v) => [v.tag, v.weight]),
      [['default', 100]],
    );
    const scale = svc.variants[0]!.scale!;
    assert.deepEqual(
      [scale.min, scale.max, scale.targetConcurrency, scale.targetUtilization, scale.stableWindowMs],
      [1, 10, 100, 0.7, 60_000],
    );
    assert.deepEqual([scale.panicWindowPercent, scale.panicThresholdPercent], [10, 200]);
    assert.equal(PADDLE_SERVICE_DEFAULTS.maxScale, 10);
    assert.notEqual(SERVICE_FILE_DEFAULTS.scale.max, scale.max);
  });

  it('sends no traffic to a canary without canaryTrafficPercent', () => {
    const svc = map(paddle((ps) => delete ps.spec['canaryTrafficPercent'])).services[0]!;
    assert.deepEqual(
      svc.variants.map((v) => [v.tag, v.weight]),
      [
        ['default', 100],
        ['canary', 0],
      ],
    );
  });

  it('takes every service field, percents as numbers or numeric strings, 0 as "unset" like ElasticServing', () => {
    const svc = map(
      paddle((ps) => {
        ps.spec['service'] = {
          autoscaler: 'kpa.autoscaling.knative.dev',
          metric: 'concurrency',
          minScale: 2,
          maxScale: 0,
          target: 8,
          targetUtilization: '80',
          window: '2m',
          panicWindow: 20,
          panicThreshold: '300',
        };
        ps.spec['canaryTrafficPercent'] = 100;
      }),
    ).services[0]!;
    const scale = svc.variants[1]!.scale!;
    assert.deepEqual(
      [scale.min, scale.max, scale.targetConcurrency, scale.targetUtilization, scale.stableWindowMs],
      [2, 10, 8, 0.8, 120_000],
    );
    assert.deepEqual([scale.panicWindowPercent, scale.panicThresholdPercent], [20, 300]);
    assert.deepEqual(
      svc.variants.map((v) => v.weight),
      [0, 100],
    );
  });

  it('runs a model: extension with flotilla serve, the image kept only as information', () => {
    const svc = map(
      paddle((ps) => {
        const d = ps.spec['default'] as Json;
        delete d['command'];
        d['model'] = { repository: './examples/models', name: 'mnist', version: 2 };
      }),
    ).services[0]!;
    assert.deepEqual(svc.variants[0]!.runs, {
      kind: 'model',
      repository: './examples/models',
      name: 'mnist',
      version: 2,
    });
    assert.equal(svc.variants[0]!.modelName, 'mnist');
    assert.equal(svc.variants[0]!.modelVersion, '2');
    assert.equal(svc.variants[1]!.runs.kind, 'command');
  });

  it('refuses the sample as is: a container image cannot run here, and says to add command', () => {
    const message = errorOf(() => parseServiceYaml(SEED, 'sample.yaml'));
    assert.ok(
      message.startsWith(
        'sample.yaml: document 2 (PaddleService paddleservice-sample): spec.default.containerImage: ' +
          'jinmionhaobaidu/resnet is a container image, which flotilla up cannot run on this machine: ' +
          'add command: "<command that listens on $PORT>" (or model: {repository, name, version}) to spec.default',
      ),
      message,
    );
    assert.match(
      message,
      /; spec\.canary\.containerImage: jinmionhaobaidu\/resnetcanary is a container image/,
    );
  });

  const bad: [string, (ps: { metadata: Json; spec: Json }) => void, RegExp][] = [
    [
      'canaryTrafficPercent without a canary',
      (ps) => delete ps.spec['canary'],
      /spec\.canaryTrafficPercent: there is no spec\.canary to send 50% of the traffic to/,
    ],
    [
      'a percent above 100',
      (ps) => {
        ps.spec['canaryTrafficPercent'] = 120;
      },
      /spec\.canaryTrafficPercent: Too big: expected number to be <=100 \(got 120\)/,
    ],
    [
      'an unknown key',
      (ps) => {
        (ps.spec['service'] as Json)['minscale'] = 1;
      },
      /spec\.service: Unrecognized key: "minscale"/,
    ],
    [
      'an unknown endpoint key',
      (ps) => {
        (ps.spec['default'] as Json)['replicas'] = 3;
      },
      /spec\.default: Unrecognized key: "replicas"/,
    ],
    [
      'the rps metric',
      (ps) => {
        (ps.spec['service'] as Json)['metric'] = 'rps';
      },
      /spec\.service\.metric: only concurrency is supported by flotilla up's autoscaler \(got "rps"\)/,
    ],
    [
      'the hpa autoscaler',
      (ps) => {
        (ps.spec['service'] as Json)['autoscaler'] = 'hpa.autoscaling.knative.dev';
      },
      /spec\.service\.autoscaler: only kpa\.autoscaling\.knative\.dev is supported/,
    ],
    [
      'a window without a unit',
      (ps) => {
        (ps.spec['service'] as Json)['window'] = 10;
      },
      /spec\.service\.window: Invalid input: expected string, received number \(got 10\)/,
    ],
    [
      'a window Knative refuses',
      (ps) => {
        (ps.spec['service'] as Json)['window'] = '2s';
      },
      /spec\.service\.window: a duration from 6s to 1h is expected/,
    ],
    [
      'a targetUtilization that is no number',
      (ps) => {
        (ps.spec['service'] as Json)['targetUtilization'] = 'most';
      },
      /spec\.service\.targetUtilization: a number is expected, e\.g\. 70 or "70" \(got "most"\)/,
    ],
    [
      'a targetUtilization above 100',
      (ps) => {
        (ps.spec['service'] as Json)['targetUtilization'] = '150';
      },
      /spec\.service\.targetUtilization: Too big: expected number to be <=100/,
    ],
    [
      'a panicWindow that is neither number nor string',
      (ps) => {
        (ps.spec['service'] as Json)['panicWindow'] = true;
      },
      /spec\.service\.panicWindow: a number is expected, e\.g\. 70 or "70" \(got true\)/,
    ],
    [
      'a panicThreshold of at most 100',
      (ps) => {
        (ps.spec['service'] as Json)['panicThreshold'] = 100;
      },
      /spec\.service\.panicThreshold: Too small: expected number to be >100/,
    ],
    [
      'minScale above the default maxScale',
      (ps) => {
        (ps.spec['service'] as Json)['minScale'] = 11;
      },
      /spec\.service\.minScale: minScale 11 exceeds maxScale 10 \(the default\)/,
    ],
    [
      'command and model together',
      (ps) => {
        (ps.spec['canary'] as Json)['model'] = { repository: 'm', name: 'x' };
      },
      /spec\.canary: give command or model, not both/,
    ],
    [
      'an endpoint with nothing to run',
      (ps) => {
        ps.spec['canary'] = { port: 9292 };
      },
      /spec\.canary: nothing to run on this machine: add command:/,
    ],
    [
      'no default',
      (ps) => delete ps.spec['default'],
      /spec\.default: Invalid input: expected object, received undefined/,
    ],
    [
      'a name that is no DNS label',
      (ps) => {
        ps.metadata['name'] = 'Paddle_Sample';
      },
      /document 1 \(PaddleService Paddle_Sample\): metadata\.name: a DNS label/,
    ],
    [
      'a model name the service file refuses, at its PaddleService path',
      (ps) => {
        const d = ps.spec['default'] as Json;
        delete d['command'];
        d['model'] = { repository: 'm', name: '-x' };
      },
      /document 1 \(PaddleService paddleservice-sample\): spec\.default\.model\.name: model\.name: letters, digits/,
    ],
    [
      'another apiVersion',
      (ps) => {
        (ps as Json)['apiVersion'] = 'elasticserving.paddlepaddle.org/v2';
      },
      /apiVersion: Invalid input: expected "elasticserving\.paddlepaddle\.org\/v1"/,
    ],
  ];
  for (const [what, edit, message] of bad) {
    it(`rejects ${what}, naming the document and field`, () => {
      const m = errorOf(() => map(paddle(edit)));
      assert.ok(m.startsWith('ps.yaml: document 1 (PaddleService '), m);
      assert.match(m, message);
    });
  }

  it('reads several PaddleServices and refuses two with one name', () => {
    const other = paddle((ps) => {
      ps.metadata['name'] = 'other';
    });
    assert.deepEqual(
      map(paddle(), other).services.map((s) => [s.name, s.hosts[0]]),
      [
        ['paddleservice-sample', 'paddleservice-sample.paddleservice-system.example.com'],
        ['other', 'other.paddleservice-system.example.com'],
      ],
    );
    const twice = paddle((ps) => {
      ps.metadata['namespace'] = 'elsewhere';
    });
    assert.match(
      errorOf(() => map(paddle(), null, twice)),
      /^ps\.yaml: document 3 \(PaddleService paddleservice-sample\): metadata\.name: document 1 is a PaddleService named paddleservice-sample too/,
    );
  });

  it('refuses a document of another kind, naming its index and kind', () => {
    const text = `${SEED.replace(/jinmionhaobaidu\/resnet(canary)?$/gm, '$&\n    command: node s.js')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\n`;
    assert.match(
      errorOf(() => parseServiceYaml(text, 'k8s.yaml')),
      /^k8s\.yaml: document 3: kind Deployment: only PaddleService \(elasticserving\.paddlepaddle\.org\/v1\) and Namespace documents are read$/,
    );
    assert.match(
      errorOf(() => map([1, 2])),
      /^ps\.yaml: document 1: no kind:/,
    );
    assert.match(
      errorOf(() => map(seedDocs()[0])),
      /^ps\.yaml: no PaddleService document$/,
    );
  });

  it('reads a Flotilla service file exactly as parseServiceFileYaml does', () => {
    for (const name of ['design-example.yaml', 'static.yaml']) {
      const text = readFileSync(fixture(name), 'utf8');
      assert.deepEqual(parseServiceYaml(text, name), parseServiceFileYaml(text, name));
    }
    assert.match(
      errorOf(() => parseServiceYaml('services: {}\n---\nservices: {}\n', 's.yaml')),
      /^s\.yaml: 2 YAML documents: a Flotilla service file is one document/,
    );
    const broken = 'services: { mnist: { variants: [{ tag: a, wieght: 1 }] } }';
    assert.equal(
      errorOf(() => parseServiceYaml(broken, 's.yaml')),
      errorOf(() => parseServiceFileYaml(broken, 's.yaml')),
    );
  });

  it('names the file when the YAML does not parse', () => {
    assert.match(
      errorOf(() => parseServiceYaml('services: [', 'broken.yaml')),
      /^broken\.yaml: not valid YAML: /,
    );
    assert.match(
      errorOf(() => parseServiceYaml(`${SEED}---\nspec: [\n`, 'broken.yaml')),
      /^broken\.yaml: not valid YAML: /,
    );
  });
});
