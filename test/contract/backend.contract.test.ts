import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FlotillaError, silentLogger, systemClock, type Tensor } from '../../src/core/index.js';
import {
  type Backend,
  errorFromWorker,
  InlineInstance,
  JsBackend,
  type LoadedModel,
  type ModelVersionSpec,
  OnnxBackend,
  pipelineDepth,
} from '../../src/server/index.js';
import { parseModelConfigYaml } from '../../src/spec/index.js';
import { EXAMPLE_MODELS, FIXTURE_MODELS } from '../helpers/paths.js';

/** One implementation of `Backend` with a model it can load and a valid request for it. */
interface Subject {
  readonly name: string;
  readonly backend: Backend;
  readonly spec: ModelVersionSpec;
  readonly inputs: () => Tensor[];
  readonly outputs: readonly string[];
}

function spec(root: string, name: string, version: number, yaml: string): ModelVersionSpec {
  const modelDir = join(root, name);
  return {
    name,
    version,
    modelDir,
    versionDir: join(modelDir, String(version)),
    config: parseModelConfigYaml(yaml, `${name}/config.yaml`),
  };
}

const subjects: Subject[] = [
  {
    name: 'onnx (mnist)',
    backend: new OnnxBackend(systemClock),
    spec: spec(EXAMPLE_MODELS, 'mnist', 2, 'instances: 2\nmax_batch_size: 64'),
    inputs: () => [
      { name: 'image', datatype: 'FP32', shape: [2, 784], data: new Float32Array(2 * 784).fill(0.2) },
    ],
    outputs: ['probs'],
  },
  {
    name: 'onnx inline (mnist)',
    backend: new OnnxBackend(systemClock),
    spec: spec(EXAMPLE_MODELS, 'mnist', 2, 'instance_kind: inline\nmax_batch_size: 64'),
    inputs: () => [
      { name: 'image', datatype: 'FP32', shape: [2, 784], data: new Float32Array(2 * 784).fill(0.2) },
    ],
    outputs: ['probs'],
  },
  {
    name: 'js (sum)',
    backend: new JsBackend(systemClock),
    spec: spec(
      FIXTURE_MODELS,
      'sum',
      1,
      'backend: js\ninstances: 2\ninputs: [{name: a, datatype: FP32, shape: [-1]}, {name: b, datatype: FP32, shape: [-1]}]\noutputs: [{name: c, datatype: FP32, shape: [-1]}]',
    ),
    inputs: () => [
      { name: 'a', datatype: 'FP32', shape: [3], data: new Float32Array([1, 2, 3]) },
      { name: 'b', datatype: 'FP32', shape: [3], data: new Float32Array([1, 1, 1]) },
    ],
    outputs: ['c'],
  },
];

const deps = { logger: silentLogger, infer: () => Promise.reject(new Error('no other models here')) };

for (const s of subjects) {
  describe(`Backend contract: ${s.name}`, () => {
    let model: LoadedModel | undefined;
    after(async () => model?.unload());

    it('loads and describes its inputs and outputs', async () => {
      model = await s.backend.load(s.spec, deps);
      assert.deepEqual(
        model.inputs.map((t) => t.name),
        s.inputs().map((t) => t.name),
      );
      assert.ok(s.outputs.every((o) => model!.outputs.some((t) => t.name === o)));
    });

    it('executes, returning the requested outputs with timings', async () => {
      const { outputs, timing } = await model!.execute(s.inputs(), s.outputs);
      assert.deepEqual(
        outputs.map((t) => t.name),
        s.outputs,
      );
      assert.ok(timing.computeMs >= 0 && timing.queueMs >= 0);
    });

    it('answers many concurrent executions, each with its own result', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => model!.execute(s.inputs(), s.outputs)),
      );
      const first = JSON.stringify(Array.from(results[0]!.outputs[0]!.data as Float32Array));
      for (const r of results)
        assert.equal(JSON.stringify(Array.from(r.outputs[0]!.data as Float32Array)), first);
    });

    it('rejects executions after unload instead of hanging', async () => {
      await model!.unload();
      await assert.rejects(model!.execute(s.inputs(), s.outputs), /unloaded/);
      model = undefined;
    });

    it('reports a missing model file as a load failure', async () => {
      const missing = { ...s.spec, version: 99, versionDir: join(s.spec.modelDir, '99') };
      await assert.rejects(
        s.backend.load(missing, deps),
        (e: unknown) => e instanceof FlotillaError && e.code === 'FLT_MODEL_LOAD_FAILED',
      );
    });
  });
}

describe('instance_kind: auto', () => {
  it('runs a model whose batch-1 run beats a thread hop inline, and others in worker threads', async () => {
    const backend = new OnnxBackend(systemClock);
    const mnist = await backend.load(spec(EXAMPLE_MODELS, 'mnist', 2, 'max_batch_size: 64'), deps);
    const det = await backend.load(spec(EXAMPLE_MODELS, 'ocr_det', 1, ocrDetConfig()), deps);
    try {
      assert.ok(mnist instanceof InlineInstance, 'mnist (microseconds a run) runs inline');
      assert.ok(!(det instanceof InlineInstance), 'ocr_det (free image size) runs in workers');
      // What the load log reports: where each runs and how many instances.
      assert.deepEqual(mnist.placement, { kind: 'inline', instances: 1 });
      assert.equal(det.placement?.kind, 'worker');
      assert.ok((det.placement?.instances ?? 0) >= 1);
      const { outputs } = await mnist.execute(
        [{ name: 'image', datatype: 'FP32', shape: [1, 784], data: new Float32Array(784).fill(0.2) }],
        ['probs'],
      );
      assert.deepEqual(outputs[0]!.shape, [1, 10]);
    } finally {
      await mnist.unload();
      await det.unload();
    }
  });

  it('keeps worker threads when instances are set', async () => {
    const model = await new OnnxBackend(systemClock).load(
      spec(EXAMPLE_MODELS, 'mnist', 2, 'instances: 1\nmax_batch_size: 64'),
      deps,
    );
    try {
      assert.ok(!(model instanceof InlineInstance));
      assert.deepEqual(model.placement, { kind: 'worker', instances: 1 });
    } finally {
      await model.unload();
    }
  });
});

function ocrDetConfig(): string {
  return readFileSync(join(EXAMPLE_MODELS, 'ocr_det', 'config.yaml'), 'utf8').replace(/^instances:.*$/m, '');
}

describe('inline instance', () => {
  it('runs one execution at a time, in order, and fails queued ones on unload', async () => {
    const log: string[] = [];
    let release: (() => void) | undefined;
    const fake = {
      inputs: [],
      outputs: [],
      run: async (inputs: readonly Tensor[]) => {
        const id = String((inputs[0]!.data as Int32Array)[0]);
        log.push(`start ${id}`);
        if (id === '1') await new Promise<void>((r) => (release = r));
        log.push(`end ${id}`);
        return inputs;
      },
      release: async () => {},
    };
    const inst = new InlineInstance(fake, 'm:1', systemClock);
    const x = (v: number): Tensor[] => [
      { name: 'x', datatype: 'INT32', shape: [1], data: new Int32Array([v]) },
    ];
    const first = inst.execute(x(1), ['x']);
    const second = inst.execute(x(2), ['x']);
    assert.equal(inst.available(), 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['start 1'], 'the second waits for the first');
    release!();
    await first;
    await second;
    assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2']);
    assert.equal(inst.available(), 1);
    const third = inst.execute(x(1), ['x']);
    const queued = inst.execute(x(3), ['x']);
    await inst.unload();
    await assert.rejects(queued, /m:1: unloaded/);
    release!();
    await third;
  });

  it('turns a run error into a 500 naming the model', async () => {
    const inst = new InlineInstance(
      { inputs: [], outputs: [], run: () => Promise.reject(new Error('bad shape')), release: async () => {} },
      'm:3',
      systemClock,
    );
    await assert.rejects(
      inst.execute([], []),
      (e: unknown) => e instanceof FlotillaError && e.httpStatus === 500 && e.message === 'm:3: bad shape',
    );
  });
});

describe('worker pool', () => {
  it('replaces an instance whose thread dies, failing only the job it held', async () => {
    const crashy = spec(
      FIXTURE_MODELS,
      'crashy',
      1,
      'backend: js\ninstances: 1\ninputs: [{name: x, datatype: INT32, shape: [-1]}]\noutputs: [{name: y, datatype: INT32, shape: [-1]}]',
    );
    const model = await new JsBackend(systemClock).load(crashy, deps);
    try {
      const x = (v: number): Tensor[] => [
        { name: 'x', datatype: 'INT32', shape: [1], data: new Int32Array([v]) },
      ];
      await assert.rejects(model.execute(x(-1), ['y']), /instance exited \(code 3\)/);
      const after = await model.execute(x(5), ['y']);
      assert.deepEqual(Array.from(after.outputs[0]!.data as Int32Array), [5]);
    } finally {
      await model.unload();
    }
  });

  it('turns a module refusing its input into a 400 and anything else into a 500 naming the model', () => {
    const refused = errorFromWorker({ message: 'image is zero-sized', code: 'FLT_INVALID_FIELD' }, 'ocr:1');
    assert.deepEqual(
      [refused.httpStatus, refused.code, refused.message],
      [400, 'FLT_INVALID_FIELD', 'ocr:1: image is zero-sized'],
    );
    for (const e of [
      { message: 'boom' },
      { message: 'boom', code: 'ERR_SOMETHING' },
      { message: 'boom', code: 'FLT_INTERNAL' },
    ]) {
      const err = errorFromWorker(e, 'm:2');
      assert.deepEqual([err.httpStatus, err.code, err.message], [500, 'FLT_INFERENCE_FAILED', 'm:2: boom']);
    }
  });

  it('pipelines fast models and batches, and not single requests to slow models', () => {
    assert.equal(pipelineDepth(0.05), 2);
    assert.equal(pipelineDepth(50), 1);
    assert.equal(pipelineDepth(50, true), 2);
  });
});
