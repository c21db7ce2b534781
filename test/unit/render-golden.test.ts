import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { RENDER_TARGETS, type RenderedObject, render, toYamlStream } from '../../src/render/index.js';
import { parseServiceFile } from '../../src/spec/index.js';
import { validateObject } from '../helpers/k8s-validate.js';
import { ROOT } from '../helpers/paths.js';

/**
 * Golden files of `flotilla render` for examples/flotilla.yaml and ElasticServing's sample
 * PaddleService, one per target, and every object in them checked against the official schemas.
 * Containers and clusters cannot run on this machine: these tests check what would be applied.
 *
 * To regenerate the goldens after an intended change, run with FLOTILLA_UPDATE_GOLDENS=1:
 *   npx tsc -p tsconfig.json && FLOTILLA_UPDATE_GOLDENS=1 node --test dist/test/unit/render-golden.test.js
 * and read the diff before committing it.
 */

const IMAGE = 'ghcr.io/example/flotilla:0.1.0';
const UPDATE = process.env['FLOTILLA_UPDATE_GOLDENS'] === '1';

interface Input {
  readonly name: string;
  /** Relative to the checkout, as a user passes it (errors and nothing else name it). */
  readonly file: string;
}

const INPUTS: readonly Input[] = [
  { name: 'flotilla', file: 'examples/flotilla.yaml' },
  { name: 'paddleservice', file: 'test/fixtures/render/paddleservice-sample.yaml' },
];

/** Targets with a golden here (a target added later brings its own goldens). */
const TARGETS = ['knative', 'kubernetes'] as const;

const golden = (input: Input, target: string) => `${ROOT}test/fixtures/render/${input.name}-${target}.yaml`;

function renderInput(input: Input, target: string): RenderedObject[] {
  return render(readFileSync(`${ROOT}${input.file}`, 'utf8'), input.file, target, { image: IMAGE });
}

describe('flotilla render goldens', () => {
  for (const input of INPUTS) {
    for (const target of TARGETS) {
      it(`${input.file} --target ${target} matches its golden file`, () => {
        const text = toYamlStream(renderInput(input, target));
        if (UPDATE) writeFileSync(golden(input, target), text);
        assert.equal(text, readFileSync(golden(input, target), 'utf8'));
      });

      it(`${input.file} --target ${target}: every object validates against its official schema`, () => {
        const objects = renderInput(input, target);
        assert.ok(objects.length > 0);
        for (const o of objects) {
          assert.doesNotThrow(() => validateObject(o), `${o.kind} ${o.metadata.name}`);
        }
      });

      it(`${input.file} --target ${target}: the golden file parses back to the same objects`, () => {
        const docs = parseAllDocuments(readFileSync(golden(input, target), 'utf8')).map((d) => d.toJS());
        assert.deepEqual(docs, JSON.parse(JSON.stringify(renderInput(input, target))));
      });
    }
  }

  it("the gateway's service file is a valid service file (dns:// read as list:// until the gateway reads dns://)", () => {
    for (const input of INPUTS) {
      const [cm] = renderInput(input, 'kubernetes').filter((o) => o.kind === 'ConfigMap');
      assert.ok(cm);
      const text = (cm['data'] as Record<string, string>)['services.yaml']!;
      assert.match(text, /dns:\/\/[a-z0-9-]+\.[a-z0-9-]+\.svc\.cluster\.local:\d+/);
      const file = parseServiceFile(parseYaml(text.replaceAll('dns://', 'list://')), 'services.yaml');
      assert.ok(file.services.length > 0);
      for (const s of file.services) assert.ok(s.variants.every((v) => v.runs.kind === 'endpoints'));
    }
  });

  it("Knative's webhook rules the schemas do not carry: one port named http1/h2c, not a reserved one, no $PORT, no grace period", () => {
    // knative/serving pkg/apis/serving/k8s_validation.go and fieldmask.go.
    const reservedPorts = [8012, 8013, 8022, 9090, 9091, 8008];
    for (const input of INPUTS) {
      for (const o of renderInput(input, 'knative').filter((x) => x.kind === 'Configuration')) {
        const spec = (o['spec'] as { template: { spec: Record<string, unknown> } }).template.spec;
        assert.equal(spec['terminationGracePeriodSeconds'], undefined);
        const containers = spec['containers'] as Record<string, unknown>[];
        assert.equal(containers.length, 1);
        const ports = containers[0]!['ports'] as { containerPort: number; name?: string }[];
        assert.equal(ports.length, 1, o.metadata.name);
        assert.ok(['http1', 'h2c', undefined].includes(ports[0]!.name));
        assert.ok(!reservedPorts.includes(ports[0]!.containerPort));
        const env = (containers[0]!['env'] ?? []) as { name: string }[];
        assert.ok(!env.some((e) => ['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION'].includes(e.name)));
      }
    }
  });

  it('the goldens cover every target in the registry that has one', () => {
    for (const target of TARGETS) assert.ok(Object.hasOwn(RENDER_TARGETS, target), target);
  });

  it('the validation bites: an invalid object is refused, naming its path', () => {
    const [route] = renderInput(INPUTS[0]!, 'knative').filter((o) => o.kind === 'Route');
    assert.ok(route);
    assert.doesNotThrow(() => validateObject(route));
    const spec = route['spec'] as { traffic: Record<string, unknown>[] };
    const broken = { ...route, spec: { traffic: [{ ...spec.traffic[0], percent: '90' }] } };
    assert.throws(() => validateObject(broken), /data\/spec\/traffic\/0\/percent must be integer/);
    const [deployment] = renderInput(INPUTS[0]!, 'kubernetes').filter((o) => o.kind === 'Deployment');
    assert.ok(deployment);
    const noSelector = { ...deployment, spec: { ...(deployment['spec'] as object), selector: undefined } };
    assert.throws(
      () => validateObject(JSON.parse(JSON.stringify(noSelector))),
      /data\/spec must have required property selector/,
    );
  });

  it('is deterministic: two renders are byte-identical, and key order in the input does not matter', () => {
    for (const input of INPUTS) {
      for (const target of TARGETS) {
        assert.equal(toYamlStream(renderInput(input, target)), toYamlStream(renderInput(input, target)));
      }
    }
    const a =
      'services:\n  m:\n    variants:\n      - { tag: s, model: { repository: ./r, name: m, version: 1 }, scale: { min: 1, max: 3 } }\n';
    const b =
      'services:\n  m:\n    variants:\n      - { scale: { max: 3, min: 1 }, model: { version: 1, name: m, repository: ./r }, tag: s }\n';
    for (const target of TARGETS) {
      assert.equal(
        toYamlStream(render(a, 'a.yaml', target, { image: IMAGE })),
        toYamlStream(render(b, 'a.yaml', target, { image: IMAGE })),
      );
    }
  });
});
