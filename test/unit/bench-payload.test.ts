import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BenchArgumentError,
  checkAgainstModel,
  countCorrect,
  decodeHttpOutputs,
  encodeHttpCall,
  type ModelRef,
  parseDataset,
  parseInputData,
  parseModelMetadata,
  predictedLabels,
  randomInputs,
} from '../../src/bench/index.js';
import type { InferResponse, Tensor, TensorSpec } from '../../src/core/index.js';
import { seededRandom } from '../../src/core/index.js';
import { decodeInferRequest, encodeInferResponse } from '../../src/protocol/oip-rest/index.js';
import { decodePredictionRequest, encodePredictionResponse } from '../../src/protocol/paddle/index.js';
import { decodePredictRequest, encodePredictResponse } from '../../src/protocol/tfserving/index.js';

const specs = {
  inputs: [
    { name: 'image', datatype: 'FP32', shape: [-1, 4] },
    { name: 'tag', datatype: 'BYTES', shape: [-1] },
  ] as TensorSpec[],
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 3] }] as TensorSpec[],
};
const ref: ModelRef = { model: 'm', version: '2', outputs: specs.outputs };
const inputs: Tensor[] = [
  { name: 'image', datatype: 'FP32', shape: [2, 4], data: Float32Array.from([0.5, 1, 0, 0.25, 1, 2, 3, 4]) },
  { name: 'tag', datatype: 'BYTES', shape: [2], data: [Buffer.from('a'), Buffer.from('b')] },
];
const response: InferResponse = {
  model: 'm',
  version: '2',
  outputs: [
    {
      name: 'probs',
      datatype: 'FP32',
      shape: [2, 3],
      data: Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]),
    },
  ],
};
const plain = (ts: readonly Tensor[]) =>
  ts.map((t) => ({ ...t, data: Array.from(t.data as ArrayLike<unknown>, String) }));

describe('requests encoded with each protocol decode to the same tensors on the server side', () => {
  it('OIP JSON and binary', () => {
    for (const protocol of ['oip', 'oip-binary'] as const) {
      const call = encodeHttpCall(protocol, ref, inputs);
      assert.equal(call.path, '/v2/models/m/versions/2/infer');
      const h = call.headers['inference-header-content-length'];
      const req = decodeInferRequest(call.body, h === undefined ? undefined : Number(h), { model: 'm' });
      assert.deepEqual(plain(req.inputs), plain(inputs));
    }
  });

  it('TF Serving columnar', () => {
    const call = encodeHttpCall('tfserving', ref, inputs);
    assert.equal(call.path, '/v1/models/m/versions/2:predict');
    const { request, format } = decodePredictRequest(call.body, { model: 'm' }, specs);
    assert.equal(format, 'columnar');
    assert.deepEqual(plain(request.inputs), plain(inputs));
  });

  it('Paddle feed/fetch', () => {
    const call = encodeHttpCall('paddle', { ...ref, version: undefined } as unknown as ModelRef, inputs);
    assert.equal(call.path, '/m/prediction');
    const req = decodePredictionRequest(call.body, { model: 'm' }, specs);
    assert.deepEqual(plain(req.inputs), plain(inputs));
    assert.deepEqual(req.outputs, [{ name: 'probs' }]);
  });

  it('answers decode back to outputs for the accuracy check', () => {
    const probs = Array.from(response.outputs[0]!.data as Float32Array);
    const oip = encodeInferResponse(response, {
      model: 'm',
      inputs: [],
      parameters: { binary_data_output: true },
    });
    const cases = [
      decodeHttpOutputs('oip-binary', ref, oip.body, oip.headerLength),
      decodeHttpOutputs(
        'tfserving',
        ref,
        Buffer.from(encodePredictResponse(response, 'columnar')),
        undefined,
      ),
      decodeHttpOutputs('paddle', ref, Buffer.from(encodePredictionResponse(response)), undefined),
    ];
    for (const outputs of cases) {
      assert.deepEqual(outputs[0]!.shape, [2, 3]);
      assert.deepEqual(Array.from(outputs[0]!.data as Float32Array), probs);
    }
  });
});

describe('labels', () => {
  it('argmax per row of a numeric output; text per row of a BYTES output', () => {
    assert.deepEqual(predictedLabels(response.outputs[0]!), ['1', '0']);
    const bytes: Tensor = {
      name: 'label',
      datatype: 'BYTES',
      shape: [2, 1],
      data: [Buffer.from('cat'), Buffer.from('0.9:7:seven')],
    };
    assert.deepEqual(predictedLabels(bytes), ['cat', '0.9:7:seven']);
    assert.equal(countCorrect([bytes], 'label', ['cat', '7']), 2);
    assert.equal(countCorrect([bytes], 'label', ['dog', 'seven']), 1);
    assert.equal(countCorrect(response.outputs, 'probs', ['1', '1']), 1);
    assert.equal(countCorrect(response.outputs, 'missing', ['1']), undefined);
  });
});

describe('payloads', () => {
  it('random inputs follow the metadata, -1 as 1, or --shape', () => {
    const t = randomInputs(specs.inputs, new Map([['image', [3, 4]]]), seededRandom(1));
    assert.deepEqual(
      t.map((x) => [x.name, x.datatype, x.shape, x.data.length]),
      [
        ['image', 'FP32', [3, 4], 12],
        ['tag', 'BYTES', [1], 1],
      ],
    );
    assert.throws(
      () => randomInputs(specs.inputs, new Map([['image', [3, 5]]]), seededRandom(1)),
      /takes|is \[-1,4\]/,
    );
    assert.throws(
      () => randomInputs(specs.inputs, new Map([['nope', [1]]]), seededRandom(1)),
      /not an input/,
    );
  });

  // Regression: ocr_cls's x [-1,3,-1,-1] was sent as a 1×1 image and reported ~3× its real rate.
  it('free dimensions besides the batch take the typical shape, else are refused with --shape named', () => {
    const x = { name: 'x', datatype: 'FP32' as const, shape: [-1, 3, -1, -1] };
    assert.throws(
      () => randomInputs([x], new Map(), seededRandom(1)),
      (err: Error) =>
        err instanceof BenchArgumentError &&
        err.message ===
          'input "x" has free dimensions [-1,3,-1,-1] and the model declares no typical_shapes: give one with --shape x:N,3,N,N',
    );
    const typical = randomInputs([{ ...x, typicalShape: [1, 3, 48, 192] }], new Map(), seededRandom(1));
    assert.deepEqual(typical[0]!.shape, [1, 3, 48, 192]);
    // --shape wins over the typical shape; a typical shape that does not fit is not used.
    const given = randomInputs(
      [{ ...x, typicalShape: [1, 3, 48, 192] }],
      new Map([['x', [2, 3, 32, 64]]]),
      seededRandom(1),
    );
    assert.deepEqual(given[0]!.shape, [2, 3, 32, 64]);
    assert.throws(
      () => randomInputs([{ ...x, typicalShape: [1, 4, 48, 192] }], new Map(), seededRandom(1)),
      /--shape x:/,
    );
    const meta = parseModelMetadata(
      {
        name: 'ocr_cls',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1], typical_shape: [1, 3, 48, 192] }],
        outputs: [],
      },
      'metadata',
    );
    assert.deepEqual(meta.inputs[0]!.typicalShape, [1, 3, 48, 192]);
  });

  it('reads --input-data as an OIP body or as named tensors', () => {
    const oip = parseInputData(
      '{"inputs":[{"name":"image","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}',
      'f.json',
    );
    const named = parseInputData('{"image":{"datatype":"FP32","shape":[1,4],"data":[[1,2,3,4]]}}', 'f.json');
    assert.deepEqual(plain(oip.inputs), plain(named.inputs));
    assert.throws(() => parseInputData('{', 'f.json'), /--input-data f.json: not JSON/);
    assert.throws(
      () => parseInputData('{"image":{"datatype":"FP32","shape":[1,4],"data":[1]}}', 'f.json'),
      /1 elements but shape \[1,4\] holds 4/,
    );
    assert.throws(() => checkAgainstModel(named.inputs, specs.inputs, 'f'), /input "tag" is missing/);
  });

  it('reads a dataset of JSON lines with labels, naming a bad line', () => {
    const line = (label: unknown) =>
      JSON.stringify({ inputs: { image: { datatype: 'FP32', shape: [1, 4], data: [0, 0, 1, 0] } }, label });
    const ds = parseDataset(`${line('7')}\n\n${line(3)}\n${line(['1'])}\n`, 'd.jsonl');
    assert.deepEqual(
      ds.map((p) => p.labels),
      [['7'], ['3'], ['1']],
    );
    assert.throws(
      () => parseDataset(`${line('7')}\n{"inputs":{}}\n`, 'd.jsonl'),
      (e: unknown) => e instanceof BenchArgumentError && /line 2/.test(e.message),
    );
    assert.throws(() => parseDataset('\n', 'd.jsonl'), /no examples/);
  });

  it('reads gRPC metadata whose dims are strings', () => {
    const m = parseModelMetadata(
      {
        name: 'm',
        versions: ['1'],
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '784'] }],
        outputs: [],
      },
      'here',
    );
    assert.deepEqual(m.inputs[0]!.shape, [-1, 784]);
  });
});
