import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError, previewJson, type TensorSpec } from '../../src/core/index.js';
import {
  type CheckInputs,
  decodeBase64,
  decodeInferRequest,
  type InputHead,
  tensorDataFromBinary,
  tensorDataFromJson,
} from '../../src/protocol/oip-rest/index.js';
import { decodePredictionRequest } from '../../src/protocol/paddle/index.js';
import { decodePredictRequest } from '../../src/protocol/tfserving/index.js';
import { checkInputs, parseVersion, versionFromText } from '../../src/server/index.js';

/**
 * Issue 19, findings 1 (amplification: tensors decoded before the model's inputs were checked)
 * and 5 (deep JSON nesting answered 500), and the smaller items on base64 and versions.
 */

const MNIST = {
  name: 'mnist',
  inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 784] } as TensorSpec],
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] } as TensorSpec],
  maxBatchSize: 64,
};
const mnistCheck: CheckInputs = (inputs) => checkInputs(inputs, MNIST);

/** A 4xx FlotillaError with this code (and message), never a RangeError turned 500. */
const refused =
  (code: string, message?: RegExp) =>
  (e: unknown): boolean => {
    assert.ok(e instanceof FlotillaError, `not a FlotillaError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.httpStatus >= 400 && e.httpStatus < 500);
    if (message) assert.match(e.message, message);
    return true;
  };

const nested = (depth: number, leaf = '0'): string => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
const nestedObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const DEPTHS = [10, 1e4, 1e5];

describe('finding 1: inputs are checked against the model before any element is decoded', () => {
  it('4M empty BYTES elements in binary to an FP32 model: refused by the check, none read', () => {
    const n = 4 * 1024 * 1024;
    const head = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'image', shape: [n], datatype: 'BYTES', parameters: { binary_data_size: n * 4 } }],
      }),
    );
    const body = Buffer.concat([head, Buffer.alloc(n * 4)]);
    const seen: InputHead[][] = [];
    const start = performance.now();
    assert.throws(
      () =>
        decodeInferRequest(body, head.length, { model: 'mnist' }, (inputs) => {
          seen.push([...inputs]);
          mnistCheck(inputs);
        }),
      refused('FLT_DATATYPE_MISMATCH', /datatype BYTES but model "mnist" takes FP32/),
    );
    assert.deepEqual(
      seen.map((h) => h.map((i) => [i.name, i.datatype, i.shape])),
      [[['image', 'BYTES', [n]]]],
    );
    // Decoding them took 23 s for 8M; the header alone is microseconds (generous for CI).
    assert.ok(performance.now() - start < 200, `${performance.now() - start} ms`);
  });

  it('the check runs before JSON data is read: a datatype error, not the data error', () => {
    const body = Buffer.from(
      '{"inputs":[{"name":"image","shape":[1,784],"datatype":"FP64","data":[[[["x"]]]]}]}',
    );
    assert.throws(
      () => decodeInferRequest(body, undefined, { model: 'mnist' }, mnistCheck),
      refused('FLT_DATATYPE_MISMATCH'),
    );
  });

  it('binary BYTES stop at the shape count: more elements than it holds are refused', () => {
    const two = Buffer.from([1, 0, 0, 0, 97, 0, 0, 0, 0, 1, 0, 0, 0, 98]);
    assert.equal((tensorDataFromBinary('BYTES', two.subarray(0, 9), 2, 'x') as Uint8Array[]).length, 2);
    assert.throws(
      () => tensorDataFromBinary('BYTES', two, 2, 'x'),
      refused('FLT_DATA_SIZE_MISMATCH', /x: binary data holds 5 bytes after the 2 BYTES elements/),
    );
    assert.throws(
      () => tensorDataFromBinary('BYTES', two, 1_000_000, 'x'),
      refused('FLT_DATA_SIZE_MISMATCH', /14 bytes, too few for the 1000000 BYTES elements/),
    );
    assert.throws(
      () => tensorDataFromBinary('BYTES', two.subarray(0, 9), 3, 'x'),
      refused('FLT_DATA_SIZE_MISMATCH', /holds 2 BYTES elements but the shape holds 3/),
    );
  });

  it('JSON data is counted against the shape before any element is converted', () => {
    const many = new Array(4 * 1024 * 1024).fill('');
    assert.throws(
      () => tensorDataFromJson('FP32', many, 'd', { shape: [1, 784] }),
      refused('FLT_DATA_SIZE_MISMATCH', /d: has 4194304 elements but shape \[1,784\] holds 784/),
    );
    // Nested data: the walk stops at the first element past the count.
    assert.throws(
      () => tensorDataFromJson('FP32', [[1, 2], [3]], 'd', { shape: [1, 2] }),
      refused('FLT_DATA_SIZE_MISMATCH', /d: has more than 2 elements but shape \[1,2\] holds 2/),
    );
    assert.deepEqual(
      [
        ...(tensorDataFromJson(
          'INT32',
          [
            [1, 2],
            [3, 4],
          ],
          'd',
          { shape: [2, 2] },
        ) as Int32Array),
      ],
      [1, 2, 3, 4],
    );
    assert.deepEqual([...(tensorDataFromJson('INT32', [[], []], 'd', { shape: [2, 0] }) as Int32Array)], []);
    assert.deepEqual([...(tensorDataFromJson('INT32', [7], 'd', { shape: [] }) as Int32Array)], [7]);
  });

  it('TF Serving: the row count and instances[0] shape are checked before any row is read', () => {
    const seen: InputHead[][] = [];
    const rows = `[${'"",'.repeat(999_999)}""]`;
    assert.throws(
      () =>
        decodePredictRequest(Buffer.from(`{"instances":${rows}}`), { model: 'mnist' }, MNIST, (inputs) => {
          seen.push([...inputs]);
          mnistCheck(inputs);
        }),
      refused('FLT_SHAPE_MISMATCH', /shape \[1000000\] but model "mnist" takes \[-1,784\]/),
    );
    assert.deepEqual(seen[0]![0]!.shape, [1_000_000]);
    const pixels = `[${'0,'.repeat(783)}0]`;
    assert.throws(
      () =>
        decodePredictRequest(
          Buffer.from(`{"instances":[${`${pixels},`.repeat(64)}${pixels}]}`),
          { model: 'mnist' },
          MNIST,
          mnistCheck,
        ),
      refused('FLT_BATCH_TOO_LARGE', /batch dimension 65 exceeds max_batch_size 64/),
    );
    assert.throws(
      () =>
        decodePredictRequest(
          Buffer.from(`{"inputs":[${'[1],'.repeat(9)}[1]]}`),
          { model: 'mnist' },
          MNIST,
          mnistCheck,
        ),
      refused('FLT_SHAPE_MISMATCH', /shape \[10,1\]/),
    );
  });

  it('Paddle: the joined feed shape is checked before any value is read', () => {
    const seen: InputHead[][] = [];
    const row = `[${'0,'.repeat(783)}0]`;
    const feed = `{"feed":[${`{"image":${row}},`.repeat(64)}{"image":${row}}]}`;
    assert.throws(
      () =>
        decodePredictionRequest(Buffer.from(feed), { model: 'mnist' }, MNIST, (inputs) => {
          seen.push([...inputs]);
          mnistCheck(inputs);
        }),
      refused('FLT_BATCH_TOO_LARGE'),
    );
    assert.deepEqual(seen[0]![0]!.shape, [65, 784]);
  });
});

describe('finding 1: the JSON header is bounded before zod reads its elements', () => {
  const one = { name: 'image', shape: [1, 784], datatype: 'FP32', data: [] };
  const cases: [string, unknown, RegExp][] = [
    [
      '200k parameters (1M took zod 8 s)',
      { inputs: [one], parameters: Object.fromEntries(Array.from({ length: 2e5 }, (_, i) => [`k${i}`, 1])) },
      /parameters: at most 128 parameters/,
    ],
    [
      'parameters of an input',
      {
        inputs: [
          { ...one, parameters: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 1])) },
        ],
      },
      /inputs\[0\]\.parameters: at most 128/,
    ],
    [
      '1M outputs',
      { inputs: [one], outputs: new Array(1e6).fill({ name: 'probs' }) },
      /outputs: at most 1024 outputs/,
    ],
    ['300k inputs', { inputs: new Array(3e5).fill(one) }, /inputs: at most 1024 inputs/],
    [
      'a shape of 4M dimensions',
      { inputs: [{ ...one, shape: new Array(4e6).fill(1) }] },
      /inputs\[0\]\.shape: at most 32 dimensions/,
    ],
  ];
  for (const [name, value, message] of cases) {
    it(name, () => {
      const body = Buffer.from(JSON.stringify(value));
      const start = performance.now();
      assert.throws(
        () => decodeInferRequest(body, undefined, { model: 'mnist' }, mnistCheck),
        refused('FLT_INVALID_FIELD', message),
      );
      // Generous for a loaded CI machine; JSON.parse of the body is most of it.
      assert.ok(performance.now() - start < 3000, `${(performance.now() - start).toFixed(0)} ms`);
    });
  }
});

describe('finding 5: deep nesting is a 400 on every front end', () => {
  for (const depth of DEPTHS) {
    it(`depth ${depth}`, () => {
      const oip = (text: string): void =>
        void decodeInferRequest(Buffer.from(text), undefined, { model: 'mnist' }, mnistCheck);
      const oipBinary = (text: string): void => {
        const head = Buffer.from(text);
        decodeInferRequest(head, head.length, { model: 'mnist' }, mnistCheck);
      };
      const tf = (text: string): void =>
        void decodePredictRequest(Buffer.from(text), { model: 'mnist' }, MNIST, mnistCheck);
      const paddle = (text: string): void =>
        void decodePredictionRequest(Buffer.from(text), { model: 'mnist' }, MNIST, mnistCheck);
      const row = `[${'0,'.repeat(783)}0]`;
      const data = `{"inputs":[{"name":"image","shape":[1,784],"datatype":"FP32","data":${nested(depth)}}]}`;
      const cases: [string, () => void, RegExp][] = [
        ['OIP data', () => oip(data), /data: lists nested deeper than 2, the rank of shape \[1,784\]/],
        // With the binary extension the header went through the header cache's deepFreeze.
        ['OIP data in a binary request header', () => oipBinary(data), /lists nested deeper than 2/],
        [
          'OIP parameters',
          () => oip(`{"inputs":[],"parameters":{"p":${nestedObject(depth)}}}`),
          /parameters\.p/,
        ],
        ['OIP body', () => oip(nested(depth)), /\(top level\)/],
        ['OIP id', () => oip(`{"inputs":[],"id":${nested(depth)}}`), /id: /],
        [
          'TF instances',
          () => tf(`{"instances":${nested(depth)}}`),
          /lists nested deeper than 2, the rank of input "image"/,
        ],
        [
          'TF inputs',
          () => tf(`{"inputs":{"image":${nested(depth)}}}`),
          /inputs\.image: lists nested deeper than 2/,
        ],
        [
          'TF object leaf',
          () => tf(`{"instances":[[${nestedObject(depth)},${'0,'.repeat(782)}0]]}`),
          /FP32 elements must be numbers/,
        ],
        [
          'TF signature_name',
          () => tf(`{"signature_name":${nestedObject(depth)},"inputs":[]}`),
          /signature_name/,
        ],
        ['TF body', () => tf(nested(depth)), /\(top level\)/],
        [
          'Paddle feed value',
          () => paddle(`{"feed":[{"image":${nested(depth)}}]}`),
          /feed\[0\]\.image: lists nested deeper than 2/,
        ],
        ['Paddle feed', () => paddle(`{"feed":${nestedObject(depth)}}`), /feed: input "a" is not an input/],
        [
          'Paddle fetch',
          () => paddle(`{"feed":[{"image":${row}}],"fetch":[${nested(depth, '"x"')}]}`),
          /fetch\[0\]/,
        ],
        ['Paddle body', () => paddle(nested(depth)), /\(top level\)/],
      ];
      for (const [name, run, message] of cases) {
        assert.throws(run, (e: unknown) => {
          assert.ok(e instanceof FlotillaError, `${name}: ${String(e)}`);
          assert.equal(e.httpStatus, 400, `${name}: ${e.code} ${e.message}`);
          assert.match(e.message, message, name);
          assert.ok(e.message.length < 500, `${name}: a bounded message (${e.message.length} characters)`);
          return true;
        });
      }
    });
  }

  it('without a shape, JSON data is still walked iteratively and bounded', () => {
    const deep = JSON.parse(nested(1e5)) as unknown[];
    assert.throws(
      () => tensorDataFromJson('FP32', deep, 'd'),
      refused('FLT_INVALID_FIELD', /d: lists nested deeper than 64/),
    );
  });
});

describe('smaller items of issue 19', () => {
  it('OIP base64 is decoded strictly, as TF Serving already did (one decoder)', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64');
    const body = (text: string) =>
      Buffer.from(
        JSON.stringify({
          inputs: [
            {
              name: 's',
              shape: [1],
              datatype: 'BYTES',
              parameters: { content_type: 'base64' },
              data: [text],
            },
          ],
        }),
      );
    const ok = decodeInferRequest(body(png), undefined, { model: 'm' });
    assert.deepEqual([...(ok.inputs[0]!.data as Uint8Array[])[0]!], [0x89, 0x50, 0x4e, 0x47]);
    assert.throws(
      () => decodeInferRequest(body(`${png.slice(0, 4)}!!!$$$***${png.slice(4)}`), undefined, { model: 'm' }),
      refused('FLT_INVALID_FIELD', /inputs\[0\] \("s"\)\.data\[0\]: ".*" is not valid base64/),
    );
  });

  const base64: [string, boolean][] = [
    ['', true],
    ['YQ', true],
    ['YQ==', true],
    ['YWI', true],
    ['YWI=', true],
    ['YWJj', true],
    ['Y', false],
    ['YQ=', false],
    ['YWJj=', false],
    ['Y===', false],
    ['YW I=', false],
    ['YW-_', false],
    ['!!!$$$***', false],
  ];
  for (const [text, valid] of base64) {
    it(`base64 ${JSON.stringify(text)}: ${valid ? 'decoded' : 'refused'}`, () => {
      if (valid) assert.deepEqual(Buffer.from(decodeBase64(text, 'f')), Buffer.from(text, 'base64'));
      else
        assert.throws(
          () => decodeBase64(text, 'f'),
          refused('FLT_INVALID_FIELD', /f: .* is not valid base64/),
        );
    });
  }

  it('16 MiB of base64 is checked without overflowing the regexp stack (a grouped pattern threw RangeError)', () => {
    const text = Buffer.alloc(12 * 1024 * 1024, 7).toString('base64');
    assert.equal(decodeBase64(text, 'f').byteLength, 12 * 1024 * 1024);
    assert.throws(() => decodeBase64(`${text}!`, 'f'), refused('FLT_INVALID_FIELD'));
  });

  const versions: [string, number | undefined][] = [
    ['1', 1],
    ['42', 42],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['9007199254740992', undefined],
    ['9999999999999999', undefined],
    ['0', undefined],
    ['01', undefined],
    ['1e3', undefined],
    ['-1', undefined],
    ['latest', undefined],
  ];
  for (const [text, expected] of versions) {
    it(`version ${JSON.stringify(text)} -> ${expected}`, () => {
      assert.equal(versionFromText(text), expected);
      if (expected !== undefined) assert.equal(parseVersion(text), expected);
      else assert.throws(() => parseVersion(text), refused('FLT_INVALID_VERSION'));
    });
  }

  it('a 16-digit version beyond 2^53 - 1 is refused, not rounded to another version', () => {
    assert.throws(
      () => parseVersion('9999999999999999'),
      refused(
        'FLT_INVALID_VERSION',
        /"9999999999999999" is larger than the largest version, 9007199254740991/,
      ),
    );
  });

  const previews: [unknown, string][] = [
    [1, '1'],
    ['a', '"a"'],
    [null, 'null'],
    [[1, [2, 3]], '[1,[2,3]]'],
    [{ a: 1, b: 'x' }, '{"a":1,"b":"x"}'],
    ['x'.repeat(100), `"${'x'.repeat(56)}...`],
    [new Array(1000).fill(0), `[${'0,'.repeat(28)}...`],
  ];
  for (const [value, expected] of previews) {
    it(`previewJson ${expected}`, () => assert.equal(previewJson(value), expected));
  }

  it('previewJson of a list 100,000 deep stays short', () => {
    assert.equal(previewJson(JSON.parse(nested(1e5))), `${'['.repeat(57)}...`);
  });
});
