import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DATATYPES,
  type Datatype,
  FlotillaError,
  fromHalfBits,
  type Tensor,
  toHalfBits,
} from '../../src/core/index.js';
import {
  decodeInferRequest,
  decodeInferResponse,
  encodeInferRequest,
  encodeInferResponse,
  tensorDataFromBinary,
  tensorDataFromJson,
} from '../../src/protocol/oip-rest/index.js';

/** One sample tensor per datatype, with edge values. */
function sample(datatype: Datatype): Tensor {
  const shape = [2, 2];
  switch (datatype) {
    case 'BYTES':
      return {
        name: 'x',
        datatype,
        shape,
        data: [Buffer.from('a'), Buffer.from('héllo'), Buffer.from(''), Buffer.from('中文')],
      };
    case 'BOOL':
      return { name: 'x', datatype, shape, data: new Uint8Array([1, 0, 0, 1]) };
    case 'INT64':
      return {
        name: 'x',
        datatype,
        shape,
        data: new BigInt64Array([0n, -1n, 9007199254740991n, -9007199254740991n]),
      };
    case 'UINT64':
      return { name: 'x', datatype, shape, data: new BigUint64Array([0n, 1n, 2n, 9007199254740991n]) };
    case 'FP16':
      return {
        name: 'x',
        datatype,
        shape,
        data: new Uint16Array([toHalfBits(1.5), toHalfBits(-2), toHalfBits(0), toHalfBits(65504)]),
      };
    case 'FP32':
      return { name: 'x', datatype, shape, data: new Float32Array([0.1, -1e-8, 3.4e38, 0]) };
    case 'FP64':
      return { name: 'x', datatype, shape, data: new Float64Array([0.1, -1e-300, 1e300, 0]) };
    case 'INT8':
      return { name: 'x', datatype, shape, data: new Int8Array([-128, 127, 0, 1]) };
    case 'UINT8':
      return { name: 'x', datatype, shape, data: new Uint8Array([0, 255, 7, 1]) };
    case 'INT16':
      return { name: 'x', datatype, shape, data: new Int16Array([-32768, 32767, 0, 1]) };
    case 'UINT16':
      return { name: 'x', datatype, shape, data: new Uint16Array([0, 65535, 0, 1]) };
    case 'INT32':
      return { name: 'x', datatype, shape, data: new Int32Array([-2147483648, 2147483647, 0, 1]) };
    case 'UINT32':
      return { name: 'x', datatype, shape, data: new Uint32Array([0, 4294967295, 0, 1]) };
  }
}

const plain = (t: Tensor): unknown[] =>
  Array.from(t.data as ArrayLike<unknown>, (v) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  );

describe('OIP REST request codec', () => {
  for (const datatype of DATATYPES) {
    for (const binaryInputs of [false, true]) {
      it(`round-trips ${datatype} as ${binaryInputs ? 'binary' : 'JSON'}`, () => {
        const t = sample(datatype);
        const { body, headerLength } = encodeInferRequest(
          { model: 'm', inputs: [t], id: 'r1' },
          { binaryInputs },
        );
        const req = decodeInferRequest(body, headerLength, { model: 'm' });
        assert.equal(req.id, 'r1');
        assert.equal(req.inputs[0]!.datatype, datatype);
        assert.deepEqual(req.inputs[0]!.shape, [2, 2]);
        // FP32 travels in JSON widened to a double and narrows back exactly.
        assert.deepEqual(plain(req.inputs[0]!), plain(t));
      });
    }
  }

  it('accepts nested JSON data in row-major order', () => {
    const body = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'x',
            shape: [2, 2],
            datatype: 'INT32',
            data: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
      }),
    );
    assert.deepEqual(
      Array.from(decodeInferRequest(body, undefined, { model: 'm' }).inputs[0]!.data as Int32Array),
      [1, 2, 3, 4],
    );
  });

  it('decodes base64 BYTES when content_type says so', () => {
    const body = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'x',
            shape: [1],
            datatype: 'BYTES',
            parameters: { content_type: 'base64' },
            data: [Buffer.from([0, 255, 1]).toString('base64')],
          },
        ],
      }),
    );
    const data = decodeInferRequest(body, undefined, { model: 'm' }).inputs[0]!.data as Uint8Array[];
    assert.deepEqual([...data[0]!], [0, 255, 1]);
  });

  const bad: { name: string; body: string; headerLength?: number | 'body'; code: string; message: RegExp }[] =
    [
      { name: 'not JSON', body: '{"inputs":', code: 'FLT_INVALID_JSON', message: /not valid JSON/ },
      { name: 'no inputs', body: '{}', code: 'FLT_INVALID_FIELD', message: /^inputs:/ },
      {
        name: 'unknown datatype',
        body: '{"inputs":[{"name":"x","shape":[1],"datatype":"FP8","data":[1]}]}',
        code: 'FLT_INVALID_FIELD',
        message: /inputs\[0\]\.datatype/,
      },
      {
        name: 'negative dim',
        body: '{"inputs":[{"name":"x","shape":[-1],"datatype":"FP32","data":[1]}]}',
        code: 'FLT_INVALID_FIELD',
        message: /inputs\[0\]\.shape\[0\]/,
      },
      {
        name: 'string in FP32',
        body: '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,"a"]}]}',
        code: 'FLT_INVALID_FIELD',
        message: /inputs\[0\] \("x"\)\.data\[1\]/,
      },
      {
        name: 'out of range INT8',
        body: '{"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[300]}]}',
        code: 'FLT_INVALID_FIELD',
        message: /\[-128, 127\]/,
      },
      {
        name: 'count mismatch',
        body: '{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2]}]}',
        code: 'FLT_DATA_SIZE_MISMATCH',
        message: /has 2 elements but shape \[3\] holds 3/,
      },
      {
        name: 'no data',
        body: '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}',
        code: 'FLT_INVALID_FIELD',
        message: /\.data: required/,
      },
      {
        name: 'header length past the body',
        body: '{"inputs":[]}',
        headerLength: 999,
        code: 'FLT_INVALID_BINARY',
        message: /Inference-Header-Content-Length/,
      },
      {
        name: 'binary size past the body',
        body: '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}',
        headerLength: 'body',
        code: 'FLT_INVALID_BINARY',
        message: /runs past the end/,
      },
    ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      const body = Buffer.from(c.body);
      assert.throws(
        () =>
          decodeInferRequest(body, c.headerLength === 'body' ? body.byteLength : c.headerLength, {
            model: 'm',
          }),
        (err: unknown) =>
          err instanceof FlotillaError &&
          err.code === c.code &&
          c.message.test(err.message) &&
          err.httpStatus === 400,
      );
    });
  }

  it('reads aligned binary numbers in place and copies misaligned ones', () => {
    const values = [1.5, -2, 3.25, 4];
    const room = new Uint8Array(32);
    new Uint8Array(room.buffer, 4, 16).set(new Uint8Array(Float32Array.from(values).buffer));
    const inPlace = tensorDataFromBinary('FP32', room.subarray(4, 20), 4, 'x') as Float32Array;
    assert.equal(inPlace.buffer, room.buffer);
    assert.deepEqual([...inPlace], values);
    room.copyWithin(6, 4, 20);
    const copied = tensorDataFromBinary('FP32', room.subarray(6, 22), 4, 'x') as Float32Array;
    assert.notEqual(copied.buffer, room.buffer);
    assert.equal(copied.byteOffset % 4, 0);
    assert.deepEqual([...copied], values);
  });

  it('rejects binary data of the wrong size', () => {
    const head = Buffer.from(
      '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":4}}]}',
    );
    const body = Buffer.concat([head, Buffer.alloc(4)]);
    assert.throws(
      () => decodeInferRequest(body, head.byteLength, { model: 'm' }),
      /binary data is 4 bytes but shape and FP32 need 8/,
    );
  });
});

describe('OIP REST response codec', () => {
  const outputs: Tensor[] = [
    { name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array([0.5, 1]) },
    { name: 'b', datatype: 'BYTES', shape: [1], data: [Buffer.from([0xff, 0xfe])] },
  ];
  it('writes JSON by default and binary when asked, per output or for all', () => {
    const req = { model: 'm', inputs: [] };
    const json = encodeInferResponse({ model: 'm', version: '1', outputs }, req);
    assert.equal(json.headerLength, undefined);
    const back = decodeInferResponse(json.body);
    assert.deepEqual(Array.from(back.outputs[0]!.data as Float32Array), [0.5, 1]);
    // Invalid UTF-8 BYTES travel as base64 and come back intact.
    assert.deepEqual([...(back.outputs[1]!.data as Uint8Array[])[0]!], [0xff, 0xfe]);

    const one = encodeInferResponse(
      { model: 'm', version: '1', outputs },
      { ...req, outputs: [{ name: 'a', parameters: { binary_data: true } }] },
    );
    assert.ok(one.headerLength !== undefined);
    const header = JSON.parse(one.body.subarray(0, one.headerLength).toString()) as {
      outputs: { parameters?: object }[];
    };
    assert.deepEqual(header.outputs[0]!.parameters, { binary_data_size: 8 });
    assert.deepEqual(
      Array.from(decodeInferResponse(one.body, one.headerLength).outputs[0]!.data as Float32Array),
      [0.5, 1],
    );

    const all = encodeInferResponse(
      { model: 'm', version: '1', outputs },
      { ...req, parameters: { binary_data_output: true } },
    );
    assert.equal(all.body.byteLength - all.headerLength!, 8 + 4 + 2);
  });

  it('writes non-finite floats as null so the JSON stays valid', () => {
    const r = encodeInferResponse(
      {
        model: 'm',
        version: '1',
        outputs: [{ name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array([Number.NaN, 1]) }],
      },
      { model: 'm', inputs: [] },
    );
    assert.deepEqual((JSON.parse(r.body.toString()) as { outputs: { data: unknown[] }[] }).outputs[0]!.data, [
      null,
      1,
    ]);
  });
});

describe('float16', () => {
  it('round-trips representable values and rounds to nearest', () => {
    for (const v of [0, 1, -1, 0.5, 65504, -65504, 6.103515625e-5, 2 ** -24])
      assert.equal(fromHalfBits(toHalfBits(v)), v);
    assert.equal(fromHalfBits(toHalfBits(1e6)), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(Number.NaN))));
    assert.equal(fromHalfBits(toHalfBits(0.1)), 0.0999755859375);
  });
  it('converts JSON numbers for FP16 inputs', () => {
    assert.deepEqual(Array.from(tensorDataFromJson('FP16', [1.5], 'x') as Uint16Array), [toHalfBits(1.5)]);
  });
});
