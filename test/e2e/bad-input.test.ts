import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { errorOf, rawRequest } from '../helpers/raw-http.js';
import { tempRepository } from '../helpers/temp-repo.js';

const MAX_BODY = 300_000;
const image = (n: number, datatype = 'FP32', shape = [1, n]): string =>
  JSON.stringify({ inputs: [{ name: 'image', shape, datatype, data: new Array(n).fill(0) }] });

interface Case {
  readonly name: string;
  readonly path: string;
  readonly body: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  readonly message: RegExp;
}

const INFER = '/v2/models/mnist/versions/2/infer';
const head =
  '{"inputs":[{"name":"image","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}]}';

const cases: Case[] = [
  {
    name: 'malformed JSON',
    path: INFER,
    body: '{"inputs": [',
    status: 400,
    code: 'FLT_INVALID_JSON',
    message: /request body is not valid JSON/,
  },
  {
    name: 'unknown model',
    path: '/v2/models/nope/infer',
    body: image(784),
    status: 404,
    code: 'FLT_MODEL_NOT_FOUND',
    message: /model "nope" is not found/,
  },
  {
    name: 'unknown version',
    path: '/v2/models/mnist/versions/9/infer',
    body: image(784),
    status: 404,
    code: 'FLT_VERSION_NOT_FOUND',
    message: /model "mnist" has no version 9/,
  },
  {
    name: 'version not a number',
    path: '/v2/models/mnist/versions/latest/infer',
    body: image(784),
    status: 400,
    code: 'FLT_INVALID_VERSION',
    message: /version: "latest" is not a positive integer/,
  },
  {
    name: 'missing input',
    path: '/v2/models/sum/infer',
    body: JSON.stringify({ inputs: [{ name: 'a', shape: [2], datatype: 'FP32', data: [1, 2] }] }),
    status: 400,
    code: 'FLT_MISSING_INPUT',
    message: /input "b" is missing \(model "sum" takes FP32 \[-1\]\)/,
  },
  {
    name: 'unknown input',
    path: INFER,
    body: JSON.stringify({
      inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }],
    }),
    status: 400,
    code: 'FLT_UNKNOWN_INPUT',
    message: /input "pixels" is not an input of model "mnist" \(inputs: image\)/,
  },
  {
    name: 'wrong datatype',
    path: INFER,
    body: image(784, 'FP64'),
    status: 400,
    code: 'FLT_DATATYPE_MISMATCH',
    message: /input "image": datatype FP64 but model "mnist" takes FP32/,
  },
  {
    name: 'unknown datatype',
    path: INFER,
    body: image(784, 'FLOAT'),
    status: 400,
    code: 'FLT_INVALID_FIELD',
    message: /inputs\[0\]\.datatype/,
  },
  {
    name: 'shape the model cannot take',
    path: INFER,
    body: image(783),
    status: 400,
    code: 'FLT_SHAPE_MISMATCH',
    message: /input "image": shape \[1,783\] but model "mnist" takes \[-1,784\]/,
  },
  {
    name: 'batch over max_batch_size',
    path: INFER,
    body: image(65 * 784, 'FP32', [65, 784]),
    status: 400,
    code: 'FLT_BATCH_TOO_LARGE',
    message: /batch dimension 65 exceeds max_batch_size 64/,
  },
  {
    name: 'data length not matching the shape',
    path: INFER,
    body: image(783, 'FP32', [1, 784]),
    status: 400,
    code: 'FLT_DATA_SIZE_MISMATCH',
    message: /inputs\[0\] \("image"\)\.data: has 783 elements but shape \[1,784\] holds 784/,
  },
  {
    name: 'non-number data',
    path: INFER,
    body: JSON.stringify({
      inputs: [
        { name: 'image', shape: [1, 784], datatype: 'FP32', data: [0, 'x', ...new Array(782).fill(0)] },
      ],
    }),
    status: 400,
    code: 'FLT_INVALID_FIELD',
    message: /inputs\[0\] \("image"\)\.data\[1\]: FP32 elements must be numbers/,
  },
  {
    name: 'binary data shorter than announced',
    path: INFER,
    body: Buffer.concat([Buffer.from(head), Buffer.alloc(100)]),
    headers: { 'inference-header-content-length': String(head.length) },
    status: 400,
    code: 'FLT_INVALID_BINARY',
    message: /binary_data_size 3136 runs past the end of the body/,
  },
  {
    name: 'header length past the body',
    path: INFER,
    body: head,
    headers: { 'inference-header-content-length': '5000' },
    status: 400,
    code: 'FLT_INVALID_BINARY',
    message: /Inference-Header-Content-Length is 5000 but the body is \d+ bytes/,
  },
  {
    name: 'body over --max-body',
    path: INFER,
    body: image(200_000),
    status: 413,
    code: 'FLT_BODY_TOO_LARGE',
    message: /exceeds the limit of 300000 bytes/,
  },
  {
    name: 'model name climbing out of the repository',
    path: '/v2/models/..%2F..%2Fetc%2Fpasswd/infer',
    body: image(784),
    status: 400,
    code: 'FLT_INVALID_MODEL_NAME',
    message: /is not a valid model name/,
  },
  {
    name: 'model name ..',
    path: '/v2/models/../infer',
    body: image(784),
    status: 400,
    code: 'FLT_INVALID_MODEL_NAME',
    message: /"\.\." is not a valid model name/,
  },
  {
    name: 'unknown route',
    path: '/v3/models/mnist/infer',
    body: '',
    status: 404,
    code: 'FLT_ROUTE_NOT_FOUND',
    message: /no endpoint/,
  },
];

describe('bad input gets a clear error and the server keeps serving', () => {
  const repo = tempRepository(['mnist'], ['sum']);
  let server: FlotillaProcess;

  before(async () => {
    server = await startServe([
      '--model-repository',
      repo.dir,
      '--poll-interval',
      '0',
      '--max-body',
      String(MAX_BODY),
    ]);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    repo.remove();
  });

  for (const c of cases) {
    it(`${c.name} -> ${c.status}`, async () => {
      const res = await rawRequest(server.url, 'POST', c.path, c.body, c.headers);
      assert.equal(res.status, c.status, res.body.toString());
      assert.equal(res.headers['content-type'], 'application/json');
      const body = JSON.parse(res.body.toString()) as { error: string; code: string };
      assert.equal(body.code, c.code);
      assert.match(body.error, c.message);
    });
  }

  it('rejects a method the endpoint does not take', async () => {
    const res = await rawRequest(server.url, 'DELETE', INFER);
    assert.equal(res.status, 405);
    assert.match(errorOf(res), /DELETE is not allowed/);
  });

  it('still answers correctly after all of that', async () => {
    const res = await rawRequest(
      server.url,
      'POST',
      '/v2/models/sum/infer',
      JSON.stringify({
        inputs: [
          { name: 'a', shape: [2], datatype: 'FP32', data: [1, 2] },
          { name: 'b', shape: [2], datatype: 'FP32', data: [10, 20] },
        ],
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      (JSON.parse(res.body.toString()) as { outputs: { data: number[] }[] }).outputs[0]!.data,
      [11, 22],
    );
    const ok = await rawRequest(server.url, 'POST', INFER, image(784));
    assert.equal(ok.status, 200);
  });

  it('reports a failing model as a 500 naming the model, and keeps serving', async () => {
    const res = await rawRequest(
      server.url,
      'POST',
      '/v2/models/sum/infer',
      JSON.stringify({
        inputs: [
          { name: 'a', shape: [2], datatype: 'FP32', data: [1, 2] },
          { name: 'b', shape: [1], datatype: 'FP32', data: [1] },
        ],
      }),
    );
    assert.equal(res.status, 500);
    assert.match(errorOf(res), /sum:1: a has 2 elements but b has 1/);
    assert.equal((await rawRequest(server.url, 'POST', INFER, image(784))).status, 200);
  });
});
