import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/index.js';
import { MODEL_CONFIG_DEFAULTS, parseModelConfigYaml } from '../../src/spec/index.js';

describe('model config', () => {
  it('applies the documented defaults', () => {
    const c = parseModelConfigYaml('', 'm/config.yaml');
    assert.deepEqual(
      {
        backend: c.backend,
        modelFile: c.modelFile,
        maxBatchSize: c.maxBatchSize,
        threads: c.threads,
        versionPolicy: c.versionPolicy,
      },
      {
        backend: 'onnx',
        modelFile: 'model.onnx',
        maxBatchSize: 0,
        threads: 1,
        versionPolicy: { kind: 'latest', count: 1 },
      },
    );
    assert.equal(c.instances, MODEL_CONFIG_DEFAULTS.instances());
  });
  it('reads every version policy form', () => {
    assert.deepEqual(parseModelConfigYaml('version_policy: all', 'f').versionPolicy, { kind: 'all' });
    assert.deepEqual(parseModelConfigYaml('version_policy: { latest: 2 }', 'f').versionPolicy, {
      kind: 'latest',
      count: 2,
    });
    assert.deepEqual(parseModelConfigYaml('version_policy: { specific: [1, 3] }', 'f').versionPolicy, {
      kind: 'specific',
      versions: [1, 3],
    });
  });
  it('batches dynamically by default when the model has a batch dimension', () => {
    assert.equal(parseModelConfigYaml('', 'f').dynamicBatching, undefined);
    assert.deepEqual(parseModelConfigYaml('max_batch_size: 8', 'f').dynamicBatching, {
      preferredBatchSizes: [],
      maxQueueDelayMs: 0,
      maxQueueSize: 0,
      queueTimeoutMs: 0,
    });
    assert.equal(
      parseModelConfigYaml('max_batch_size: 8\ndynamic_batching: false', 'f').dynamicBatching,
      undefined,
    );
    const c = parseModelConfigYaml(
      'max_batch_size: 8\ndynamic_batching: { preferred_batch_sizes: [4, 8], max_queue_delay_us: 500, max_queue_size: 100, queue_timeout_us: 2000000 }',
      'f',
    );
    assert.deepEqual(c.dynamicBatching, {
      preferredBatchSizes: [4, 8],
      maxQueueDelayMs: 0.5,
      maxQueueSize: 100,
      queueTimeoutMs: 2000,
    });
  });

  it('measures where onnx instances run unless told (auto), and keeps workers when instances are set', () => {
    assert.equal(parseModelConfigYaml('', 'f').instanceKind, 'auto');
    assert.equal(parseModelConfigYaml('instances: 3', 'f').instanceKind, 'worker');
    assert.equal(parseModelConfigYaml('instance_kind: worker', 'f').instanceKind, 'worker');
    const inline = parseModelConfigYaml('instance_kind: inline', 'f');
    assert.deepEqual([inline.instanceKind, inline.instances], ['inline', 1]);
    const js = parseModelConfigYaml(
      'backend: js\ninputs: [{name: a, datatype: FP32, shape: [1]}]\noutputs: [{name: b, datatype: FP32, shape: [1]}]',
      'f',
    );
    assert.equal(js.instanceKind, 'worker');
  });
  it("reads TF Serving's version_labels (default: none), refusing labels and versions that cannot be", () => {
    assert.deepEqual(parseModelConfigYaml('', 'f').versionLabels, {});
    assert.deepEqual(parseModelConfigYaml('version_labels: { stable: 1, canary: 2 }', 'f').versionLabels, {
      stable: 1,
      canary: 2,
    });
    assert.throws(
      () => parseModelConfigYaml('version_labels: { stable: 0 }', 'm/config.yaml'),
      /version_labels/,
    );
    assert.throws(
      () => parseModelConfigYaml('version_labels: { "a/b": 1 }', 'm/config.yaml'),
      /version_labels: "a\/b": a label is 1 to 64 letters, digits/,
    );
  });
  it('accepts Triton datatype names in inputs', () => {
    const c = parseModelConfigYaml('inputs: [{ name: x, datatype: TYPE_FP32, shape: [-1, 4] }]', 'f');
    assert.equal(c.inputs?.[0]?.datatype, 'FP32');
  });
  it('reads typical_shapes (what bench sends for free dimensions)', () => {
    const c = parseModelConfigYaml('typical_shapes: { x: [1, 3, 48, 192] }', 'f');
    assert.deepEqual(c.typicalShapes, { x: [1, 3, 48, 192] });
    assert.equal(parseModelConfigYaml('', 'f').typicalShapes, undefined);
  });
  const bad: [string, RegExp][] = [
    ['typical_shapes: { x: [1, -1] }', /typical_shapes\.x\[1\]/],
    ['backend: tensorflow', /m\/config\.yaml: backend: .*"tensorflow"/],
    ['version_policy: { latest: 0 }', /version_policy/],
    ['max_batch_size: -1', /max_batch_size: .*\(got -1\)/],
    ['instanses: 2', /instanses/],
    [
      'inputs: [{ name: x, datatype: FP8, shape: [1] }]',
      /inputs\[0\]\.datatype: unknown datatype.*\(got "FP8"\)/,
    ],
    ['backend: js', /inputs: required when backend is js/],
    [
      'max_batch_size: 4\ndynamic_batching: { preferred_batch_sizes: [8] }',
      /preferred_batch_sizes: 8 exceeds max_batch_size 4/,
    ],
    ['dynamic_batching: { max_queue_delay: 5 }', /max_queue_delay/],
    ['a: [', /not valid YAML/],
    ['instance_kind: gpu', /instance_kind: .*"gpu"/],
    [
      'backend: js\ninstance_kind: inline\ninputs: [{name: a, datatype: FP32, shape: [1]}]\noutputs: [{name: b, datatype: FP32, shape: [1]}]',
      /instance_kind: inline runs onnx models only/,
    ],
    ['instance_kind: inline\ninstances: 2', /instances: 2 with instance_kind: inline/],
  ];
  for (const [yaml, message] of bad) {
    it(`names the file and field: ${yaml}`, () => {
      assert.throws(
        () => parseModelConfigYaml(yaml, 'm/config.yaml'),
        (e: unknown) =>
          e instanceof ConfigError && message.test(e.message) && e.message.startsWith('m/config.yaml: '),
      );
    });
  }
});
