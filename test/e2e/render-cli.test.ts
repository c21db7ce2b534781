import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { validateObject } from '../helpers/k8s-validate.js';
import { CLI, ROOT } from '../helpers/paths.js';

/**
 * `flotilla render` end to end: the real CLI, run from the checkout's root as the docs show it.
 * No cluster runs here: the output is checked against the official schemas and the goldens.
 */

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const IMAGE = 'ghcr.io/example/flotilla:0.1.0';

function flotilla(args: readonly string[]): Promise<Run> {
  const proc = spawn(process.execPath, [CLI, 'render', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d));
  proc.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('flotilla render (CLI)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-render-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes multi-document YAML for kubectl apply -f - on stdout: the golden, valid objects', async () => {
    const run = await flotilla(['examples/flotilla.yaml', '--target', 'knative', '--image', IMAGE]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, readFileSync(join(ROOT, 'test/fixtures/render/flotilla-knative.yaml'), 'utf8'));
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as Record<string, unknown>);
    assert.deepEqual(
      docs.map((d) => d['kind']),
      ['Configuration', 'Configuration', 'Route', 'Configuration', 'Route', 'Configuration', 'Route'],
    );
    for (const d of docs) validateObject(d);
  });

  it('renders the ElasticServing sample as it is', async () => {
    const run = await flotilla([
      'test/fixtures/render/paddleservice-sample.yaml',
      '--target',
      'kubernetes',
      '--image',
      IMAGE,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      readFileSync(join(ROOT, 'test/fixtures/render/paddleservice-kubernetes.yaml'), 'utf8'),
    );
  });

  it('--out DIR writes one file per object and a kustomization.yaml listing them', async () => {
    const out = join(dir, 'out');
    const run = await flotilla([
      'examples/flotilla.yaml',
      '--target',
      'kubernetes',
      '--image',
      IMAGE,
      '--out',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '');
    const kustomization = parseYaml(readFileSync(join(out, 'kustomization.yaml'), 'utf8')) as {
      kind: string;
      resources: string[];
    };
    assert.equal(kustomization.kind, 'Kustomization');
    assert.deepEqual([...kustomization.resources, 'kustomization.yaml'].sort(), readdirSync(out).sort());
    assert.ok(kustomization.resources.includes('deployment-mnist-stable.yaml'));
    assert.ok(kustomization.resources.includes('configmap-flotilla-gateway.yaml'));
    // The files hold the same objects as the stream, in the same order.
    const stream = await flotilla(['examples/flotilla.yaml', '--target', 'kubernetes', '--image', IMAGE]);
    assert.equal(
      kustomization.resources.map((f) => `---\n${readFileSync(join(out, f), 'utf8')}`).join(''),
      stream.stdout,
    );
  });

  it('docs/kubernetes.md documents every flag of `flotilla render --help`', async () => {
    const run = await flotilla(['--help']);
    const flags = [...run.stdout.matchAll(/^\s+(--[a-z-]+)/gm)]
      .map((m) => m[1]!)
      .filter((f) => f !== '--help');
    assert.ok(flags.length >= 7, run.stdout);
    const page = readFileSync(join(ROOT, 'docs/kubernetes.md'), 'utf8');
    for (const flag of flags)
      assert.ok(page.includes(`\`${flag}\``), `docs/kubernetes.md does not mention ${flag}`);
  });

  it('bad input: one line naming the problem, exit 2, nothing on stdout', async () => {
    writeFileSync(
      join(dir, 'my_model.yaml'),
      'services:\n  my_model:\n    variants:\n      - { tag: a, model: { repository: ./r, name: m } }\n',
    );
    writeFileSync(
      join(dir, 'no-default.yaml'),
      'apiVersion: elasticserving.paddlepaddle.org/v1\nkind: PaddleService\nmetadata: { name: p }\nspec: { canary: { containerImage: x } }\n',
    );
    const cases: [string[], RegExp][] = [
      [
        ['examples/flotilla.yaml', '--target', 'swarm'],
        /argument 'swarm' is invalid.*knative, kserve, kubernetes/,
      ],
      [
        ['examples/flotilla.yaml', '--target', 'knative'],
        /services\.mnist\.variants\[0\]\.model: --target knative runs model variants in the Flotilla image: give --image IMAGE/,
      ],
      [
        [join(dir, 'my_model.yaml'), '--target', 'kubernetes', '--image', IMAGE],
        /services\.my_model: "my_model" is not a valid Kubernetes name/,
      ],
      [[join(dir, 'no-default.yaml'), '--target', 'knative'], /PaddleService p\): spec\.default/],
      [
        ['examples/flotilla.yaml', '--target', 'knative', '--image', IMAGE, '--models', 'nfs:x'],
        /--models nfs:x: expected image, pvc:CLAIM or uri:URI/,
      ],
      [[join(dir, 'missing.yaml'), '--target', 'knative'], /cannot read the service file/],
      [['examples/flotilla.yaml'], /required option '--target <target>' not specified/],
      [
        [
          'examples/flotilla.yaml',
          '--target',
          'knative',
          '--image',
          IMAGE,
          '--out',
          join(dir, 'my_model.yaml'),
        ],
        /--out .*my_model\.yaml: cannot write the files: EEXIST/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await flotilla(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(run.stdout, '');
    }
  });
});
