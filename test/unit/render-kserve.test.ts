import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { FlotillaError } from '../../src/core/index.js';
import {
  APPLY_STEP,
  flotillaServingRuntime,
  objectFileName,
  type RenderedObject,
  type RenderOptions,
  render,
  toYamlStream,
} from '../../src/render/index.js';
import { kserveProblems } from '../helpers/kserve-schema.js';
import { ROOT } from '../helpers/paths.js';

/**
 * The kserve target: goldens for examples/flotilla.yaml and ElasticServing's sample, every object
 * checked against KServe's own CRD schemas (test/fixtures/kserve), the field mapping, and the
 * errors for what KServe cannot express. No cluster runs here: these check what would be applied.
 *
 * Regenerate the goldens after an intended change (and read the diff):
 *   npx tsc -p tsconfig.json && FLOTILLA_UPDATE_GOLDENS=1 node --test dist/test/unit/render-kserve.test.js
 */

const IMAGE = 'ghcr.io/example/flotilla:0.1.0';
const MODELS: RenderOptions['models'] = { kind: 'uri', uri: 'gs://example-models/flotilla' };
const UPDATE = process.env['FLOTILLA_UPDATE_GOLDENS'] === '1';

const INPUTS = [
  { name: 'flotilla', file: 'examples/flotilla.yaml' },
  { name: 'paddleservice', file: 'test/fixtures/render/paddleservice-sample.yaml' },
] as const;

const renderFile = (file: string): RenderedObject[] =>
  render(readFileSync(`${ROOT}${file}`, 'utf8'), file, 'kserve', { image: IMAGE, models: MODELS });

const plain = (o: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(o)) as Record<string, unknown>;

function at(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[key];
  return v;
}

/** Renders a service file's text for kserve. */
const renderText = (text: string, options: Partial<RenderOptions> = {}): RenderedObject[] =>
  render(text, 'm.yaml', 'kserve', { image: IMAGE, models: MODELS, ...options });

const MODEL = '{ repository: ./models, name: mnist, version: 1 }';

describe('flotilla render --target kserve: goldens, validated by KServe CRD schemas', () => {
  for (const input of INPUTS) {
    const golden = `${ROOT}test/fixtures/render/${input.name}-kserve.yaml`;
    it(`${input.file} matches its golden file`, () => {
      const text = toYamlStream(renderFile(input.file));
      if (UPDATE) writeFileSync(golden, text);
      assert.equal(text, readFileSync(golden, 'utf8'));
    });
    it(`${input.file}: every object validates against KServe's CRD schema`, () => {
      const objects = renderFile(input.file);
      assert.ok(objects.some((o) => o.kind === 'InferenceService'));
      for (const o of objects) assert.deepEqual(kserveProblems(o), [], `${o.kind} ${o.metadata.name}`);
    });
    it(`${input.file}: the golden parses back to the same objects`, () => {
      const docs = parseAllDocuments(readFileSync(golden, 'utf8')).map((d) => d.toJS());
      assert.deepEqual(docs, plain(renderFile(input.file)));
    });
  }

  it('the validator bites: a wrong type, a value outside an enum and an unknown field are named by path', () => {
    const [isvc] = renderText(`services:\n  m:\n    variants:\n      - { tag: a, model: ${MODEL} }\n`).filter(
      (o) => o.kind === 'InferenceService',
    );
    const bad = plain(isvc);
    const predictor = at(bad, 'spec.predictor') as Record<string, unknown>;
    predictor['minReplicas'] = 'one';
    predictor['scaleMetric'] = 'latency';
    predictor['canaryPercent'] = 10;
    const problems = kserveProblems(bad as { kind: string });
    assert.ok(
      problems.some((p) => p.startsWith('/spec/predictor/minReplicas: must be integer')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) =>
        p.startsWith('/spec/predictor/scaleMetric: must be equal to one of the allowed values'),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p === '/spec/predictor: must NOT have additional properties (canaryPercent)'),
      problems.join('\n'),
    );
    const runtime = plain(flotillaServingRuntime(IMAGE));
    (at(runtime, 'spec.supportedModelFormats.0') as Record<string, unknown>)['autoSelect'] = 'yes';
    assert.deepEqual(kserveProblems(runtime as { kind: string }), [
      '/spec/supportedModelFormats/0/autoSelect: must be boolean',
    ]);
  });
});

describe('flotilla render --target kserve: the mapping', () => {
  it('a stable + canary pair is two steps: stable alone, then the canary at its weight', () => {
    const objects = renderText(
      `services:\n  m:\n    variants:\n      - { tag: a, weight: 80, model: { repository: ./models, name: mnist, version: 1 } }\n      - { tag: b, weight: 20, model: { repository: ./models, name: mnist, version: 2 } }\n`,
    );
    const steps = objects.filter((o) => o.kind === 'InferenceService').map(plain);
    assert.deepEqual(
      steps
        .map((o) => [at(o, `metadata.annotations`) as Record<string, string>, at(o, 'spec.predictor')])
        .map(([a, p]) => [
          (a as Record<string, string>)[APPLY_STEP],
          at(p, 'canaryTrafficPercent'),
          at(p, 'model.args'),
        ]),
      [
        ['1', undefined, ['--model-name', 'mnist', '--models', 'mnist:1']],
        ['2', 20, ['--model-name', 'mnist', '--models', 'mnist:2']],
      ],
    );
    assert.deepEqual(objects.map(objectFileName), [
      'clusterservingruntime-flotilla.yaml',
      'inferenceservice-m.yaml',
      'step2-inferenceservice-m.yaml',
    ]);
  });

  it('rollout steps are apply steps; 100 promotes the canary (no canaryTrafficPercent)', () => {
    const objects = renderText(
      `services:\n  mnist:\n    slo: { latencyMs: 50, errorRate: 0.01 }\n    rollout: { steps: [10, 50, 100], interval: 30s }\n    variants:\n      - { tag: a, weight: 90, model: ${MODEL} }\n      - { tag: b, weight: 10, model: { repository: ./models, name: mnist, version: 2 } }\n`,
    );
    const pcts = objects
      .filter((o) => o.kind === 'InferenceService')
      .map((o) => at(plain(o), 'spec.predictor.canaryTrafficPercent'));
    assert.deepEqual(pcts, [undefined, 10, 50, undefined]);
    // The service is named as its model: no --model-name on top of the runtime's {{.Name}}.
    assert.deepEqual(at(plain(objects[1]), 'spec.predictor.model.args'), ['--models', 'mnist:1']);
  });

  const scaleCases: readonly [string, string, string, unknown][] = [
    ['scale.min', 'scale: { min: 2, max: 5 }', 'spec.predictor.minReplicas', 2],
    ['scale.max', 'scale: { min: 2, max: 5 }', 'spec.predictor.maxReplicas', 5],
    ['scale.targetConcurrency', 'scale: { targetConcurrency: 4 }', 'spec.predictor.scaleTarget', 4],
    ['scale metric', 'scale: { targetConcurrency: 4 }', 'spec.predictor.scaleMetric', 'concurrency'],
  ];
  for (const [name, yaml, path, want] of scaleCases) {
    it(`${name} -> ${path}`, () => {
      const [, isvc] = renderText(
        `services:\n  m:\n    variants:\n      - tag: a\n        model: ${MODEL}\n        ${yaml}\n`,
      );
      assert.equal(at(plain(isvc), path), want);
    });
  }

  it("scale's windows go to the Knative annotations KServe passes on", () => {
    const [, isvc] = renderText(
      `services:\n  m:\n    variants:\n      - tag: a\n        model: ${MODEL}\n        scale: { stableWindow: 20s, initial: 0 }\n`,
    );
    const a = plain(isvc).metadata as { annotations: Record<string, string> };
    assert.equal(a.annotations['autoscaling.knative.dev/window'], '20s');
    assert.equal(a.annotations['autoscaling.knative.dev/initial-scale'], '0');
    assert.equal(a.annotations['autoscaling.knative.dev/min-scale'], undefined);
  });

  it('--models pvc:CLAIM is pvc://CLAIM/<model>; timeouts.total is the predictor timeout', () => {
    const [, isvc] = renderText(
      `services:\n  m:\n    timeouts: { total: 90s }\n    variants:\n      - { tag: a, model: ${MODEL} }\n`,
      {
        models: { kind: 'pvc', claim: 'models' },
      },
    );
    assert.equal(at(plain(isvc), 'spec.predictor.model.storageUri'), 'pvc://models/mnist');
    assert.equal(at(plain(isvc), 'spec.predictor.timeout'), 90);
  });

  it('a pipeline (model.with) is a custom container on the whole repository, via STORAGE_URI', () => {
    const objects = renderText(
      `services:\n  digit:\n    variants:\n      - { tag: a, model: { repository: ./models, name: digit, with: [mnist] } }\n`,
    );
    assert.equal(
      objects.some((o) => o.kind === 'ClusterServingRuntime'),
      false,
    );
    const c = at(plain(objects[0]), 'spec.predictor.containers.0') as Record<string, unknown>;
    assert.deepEqual(c['env'], [{ name: 'STORAGE_URI', value: 'gs://example-models/flotilla' }]);
    assert.deepEqual((c['args'] as string[]).slice(0, 5), [
      'serve',
      '--model-repository',
      '/mnt/models',
      '--models',
      'digit,mnist',
    ]);
    assert.deepEqual(c['ports'], [{ containerPort: 8080, name: 'h2c', protocol: 'TCP' }]);
  });
});

describe('flotilla render --target kserve: what KServe cannot express is one line naming the field', () => {
  const two = `      - { tag: a, model: ${MODEL} }\n      - { tag: b, model: ${MODEL} }\n`;
  const cases: readonly [string, string, Partial<RenderOptions>, RegExp][] = [
    [
      'mirror',
      `services:\n  m:\n    mirror: { variant: b, percent: 5 }\n    variants:\n${two}`,
      {},
      /^m\.yaml: services\.m\.mirror: --target kserve has no traffic mirroring/,
    ],
    [
      'three variants',
      `services:\n  m:\n    variants:\n${two}      - { tag: c, model: ${MODEL} }\n`,
      {},
      /services\.m\.variants: --target kserve splits a service between two revisions only/,
    ],
    [
      'static endpoints',
      'services:\n  m:\n    variants:\n      - { tag: a, endpoints: "list://10.0.0.1:8000" }\n',
      {},
      /services\.m\.variants\[0\]\.endpoints: --target kserve runs pods only/,
    ],
    [
      'models baked into the image',
      `services:\n  m:\n    variants:\n      - { tag: a, model: ${MODEL} }\n`,
      { models: { kind: 'image' } },
      /--target kserve loads models with KServe's storage initializer: give --models uri:URI/,
    ],
    [
      'no --image',
      `services:\n  m:\n    variants:\n      - { tag: a, model: ${MODEL} }\n`,
      { image: '' },
      /services\.m\.variants\[0\]\.model: --target kserve runs the Flotilla image: give --image IMAGE/,
    ],
    [
      '--autoscaler',
      `services:\n  m:\n    variants:\n      - { tag: a, model: ${MODEL} }\n`,
      { autoscaler: 'keda' },
      /--autoscaler keda: a flag of --target kubernetes, not of --target kserve/,
    ],
    [
      'host',
      `services:\n  m:\n    host: m.example.org\n    variants:\n      - { tag: a, model: ${MODEL} }\n`,
      {},
      /services\.m\.host: --target kserve names hosts by its ingress domain template/,
    ],
    [
      'a name that is not DNS-1123',
      `services:\n  My_Model:\n    variants:\n      - { tag: a, model: ${MODEL} }\n`,
      {},
      /"My_Model" is not a valid Kubernetes name for --target kserve/,
    ],
  ];
  for (const [name, text, options, message] of cases) {
    it(name, () => {
      assert.throws(
        () => {
          const { image = IMAGE, ...rest } = options;
          render(text, 'm.yaml', 'kserve', { models: MODELS, ...rest, ...(image ? { image } : {}) });
        },
        (err: unknown) => {
          assert.ok(err instanceof FlotillaError);
          assert.equal(err.code, 'FLT_RENDER_UNMAPPABLE');
          assert.match(err.message, message);
          assert.equal(err.message.includes('\n'), false);
          return true;
        },
      );
    });
  }
});
