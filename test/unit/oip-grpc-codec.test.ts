import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSync, type MethodDefinition, type PackageDefinition } from '@grpc/proto-loader';
import {
  DATATYPES,
  type Datatype,
  FlotillaError,
  GRPC_STATUS,
  type InferRequest,
  type Tensor,
  toHalfBits,
} from '../../src/core/index.js';
import {
  decodeModelInferRequest,
  decodeModelInferResponse,
  encodeModelInferRequest,
  encodeModelInferResponse,
  loadOipGrpcDefinition,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
  OIP_GRPC_SERVICE,
  PROTO_LOADER_OPTIONS,
} from '../../src/protocol/oip-grpc/index.js';
import { ROOT } from '../helpers/paths.js';

const definition = loadOipGrpcDefinition();
const modelInfer = (definition[OIP_GRPC_SERVICE] as Record<string, MethodDefinition<object, object>>)[
  'ModelInfer'
]!;

/** Through the real wire: serialize and parse as the server would. */
const wireRequest = (m: ModelInferRequestMessage): ModelInferRequestMessage =>
  modelInfer.requestDeserialize(modelInfer.requestSerialize(m)) as ModelInferRequestMessage;
const wireResponse = (m: ModelInferResponseMessage): ModelInferResponseMessage =>
  modelInfer.responseDeserialize(modelInfer.responseSerialize(m)) as ModelInferResponseMessage;

/** Data for each datatype, with its edge values (64-bit ones beyond 2^53). */
const SAMPLE_DATA: { readonly [D in Datatype]: () => Tensor['data'] } = {
  BYTES: () => [Buffer.from('a'), Buffer.from('héllo'), Buffer.from(''), Buffer.from([0xff, 0, 0xfe])],
  BOOL: () => new Uint8Array([1, 0, 0, 1]),
  INT64: () => new BigInt64Array([0n, -1n, 9223372036854775807n, -9223372036854775808n]),
  UINT64: () => new BigUint64Array([0n, 1n, 9007199254740993n, 18446744073709551615n]),
  FP16: () => new Uint16Array([toHalfBits(1.5), toHalfBits(-2), toHalfBits(0), toHalfBits(65504)]),
  FP32: () => new Float32Array([0.1, -1e-8, 3.4e38, Number.NaN]),
  FP64: () => new Float64Array([0.1, -1e-300, 1e300, Number.NEGATIVE_INFINITY]),
  INT8: () => new Int8Array([-128, 127, 0, 1]),
  UINT8: () => new Uint8Array([0, 255, 7, 1]),
  INT16: () => new Int16Array([-32768, 32767, 0, 1]),
  UINT16: () => new Uint16Array([0, 65535, 0, 1]),
  INT32: () => new Int32Array([-2147483648, 2147483647, 0, 1]),
  UINT32: () => new Uint32Array([0, 4294967295, 0, 1]),
};

const sample = (datatype: Datatype, name = 'x'): Tensor =>
  ({ name, datatype, shape: [2, 2], data: SAMPLE_DATA[datatype]() }) as Tensor;

/** Everything that must survive a round trip, comparable with deepEqual (BYTES as hex). */
const described = (t: Tensor): unknown[] => [
  t.name,
  t.datatype,
  t.shape,
  t.data.constructor.name,
  Array.from(t.data as ArrayLike<unknown>, (v) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  ),
];

describe('OIP gRPC codec: round trips through the wire', () => {
  for (const datatype of DATATYPES) {
    for (const raw of [false, true]) {
      it(`carries ${datatype} as ${raw ? 'raw_input_contents' : 'typed contents'} and answers alike`, () => {
        const t = sample(datatype);
        const req: InferRequest = { model: 'm', version: '3', id: 'r1', inputs: [t] };
        const sent = wireRequest(encodeModelInferRequest(req, { raw }));
        // FP16 has no typed field, so it always travels raw.
        const expectRaw = raw || datatype === 'FP16';
        assert.equal(sent.raw_input_contents!.length, expectRaw ? 1 : 0);
        assert.equal(sent.inputs![0]!.contents === null, expectRaw);

        const decoded = decodeModelInferRequest(sent);
        const { request } = decoded;
        assert.deepEqual(
          [decoded.raw, request.model, request.version, request.id],
          [expectRaw, 'm', '3', 'r1'],
        );
        assert.deepEqual(described(request.inputs[0]!), described(t));

        const answer = wireResponse(
          encodeModelInferResponse(
            { model: 'm', version: '3', id: 'r1', outputs: [t] },
            { raw: decoded.raw },
          ),
        );
        assert.equal(answer.raw_output_contents!.length, expectRaw ? 1 : 0);
        const res = decodeModelInferResponse(answer);
        assert.deepEqual([res.model, res.version, res.id], ['m', '3', 'r1']);
        assert.deepEqual(described(res.outputs[0]!), described(t));
      });
    }
  }

  it('leaves version, id, outputs and parameters out when the message does not set them', () => {
    const { request } = decodeModelInferRequest(
      wireRequest(encodeModelInferRequest({ model: 'm', inputs: [sample('FP32')] })),
    );
    assert.deepEqual(Object.keys(request).sort(), ['inputs', 'model']);
  });

  it('carries several inputs, requested outputs and parameters of every kind', () => {
    const req: InferRequest = {
      model: 'm',
      inputs: [sample('INT32', 'a'), sample('BYTES', 'b')],
      outputs: [{ name: 'y', parameters: { classification: 3, binary_data: false } }, { name: 'z' }],
      parameters: { priority: 2, timeout: 1.5, tag: 'canary', sequence_start: true },
    };
    const { request } = decodeModelInferRequest(wireRequest(encodeModelInferRequest(req)));
    assert.deepEqual(request.parameters, req.parameters);
    assert.deepEqual(request.outputs, req.outputs);
    assert.deepEqual(
      request.inputs.map((t) => t.name),
      ['a', 'b'],
    );
  });
});

/** A valid one-input message to spoil; `raw` replaces its typed contents with raw_input_contents. */
const base = (patch: Partial<ModelInferRequestMessage> = {}): ModelInferRequestMessage => ({
  model_name: 'm',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], contents: { fp32_contents: [1, 2, 3, 4] } }],
  ...patch,
});
const input = (patch: object, raw?: Buffer): ModelInferRequestMessage =>
  base({
    inputs: [{ ...base().inputs![0]!, ...(raw ? { contents: null } : {}), ...patch }],
    ...(raw ? { raw_input_contents: [raw] } : {}),
  });

const X = 'inputs[0] ("x")';
const two = [
  { name: 'x', datatype: 'FP32', shape: [1] },
  { name: 'y', datatype: 'FP32', shape: [1] },
];

/** [what, message, the error message, its code (default FLT_INVALID_FIELD)]. */
const BAD: readonly (readonly [string, ModelInferRequestMessage, string, string?])[] = [
  ['no inputs', base({ inputs: [] }), 'inputs: at least one input is required'],
  ['an unnamed input', input({ name: '' }), 'inputs[0].name: required'],
  [
    'an unknown datatype',
    input({ datatype: 'FP8' }),
    `${X}.datatype: must be one of ${DATATYPES.join(', ')} (got "FP8")`,
  ],
  [
    'a negative dimension',
    input({ shape: [-1, 4] }),
    `${X}.shape[0]: must be a non-negative integer, got -1`,
  ],
  [
    'fewer elements than the shape holds',
    input({ contents: { fp32_contents: [1, 2, 3] } }),
    `${X}.contents.fp32_contents: has 3 elements but shape [2,2] holds 4`,
    'FLT_DATA_SIZE_MISMATCH',
  ],
  [
    'no contents at all',
    input({ contents: null }),
    `${X}.contents: required: 4 elements in contents.fp32_contents (or raw_input_contents)`,
  ],
  [
    "values in another datatype's field",
    input({ contents: { int_contents: [1, 2, 3, 4] } }),
    `${X}.contents.int_contents: FP32 data goes in contents.fp32_contents`,
  ],
  [
    'both raw and typed contents',
    base({ raw_input_contents: [Buffer.alloc(16)] }),
    `${X}.contents.fp32_contents: must be empty when raw_input_contents is used (one or the other)`,
  ],
  [
    'fewer raw entries than inputs',
    base({ inputs: two, raw_input_contents: [Buffer.alloc(4)] }),
    'raw_input_contents: has 1 entries but there are 2 inputs; give one per tensor, in order',
  ],
  [
    'raw contents of the wrong size',
    input({ shape: [4] }, Buffer.alloc(8)),
    'raw_input_contents[0] ("x"): binary data is 8 bytes but shape and FP32 need 16',
    'FLT_DATA_SIZE_MISMATCH',
  ],
  [
    'FP16 in typed contents',
    input({ datatype: 'FP16', contents: null }),
    `${X}.contents: FP16 has no typed contents field; send it in raw_input_contents`,
  ],
  [
    'INT8 values out of range',
    input({ datatype: 'INT8', contents: { int_contents: [1, 300, 0, 0] } }),
    `${X}.contents.int_contents[1]: INT8 elements must be integers in [-128, 127], got 300`,
  ],
  [
    'UINT16 values out of range',
    input({ datatype: 'UINT16', contents: { uint_contents: [0, 0, 70000, 0] } }),
    `${X}.contents.uint_contents[2]: UINT16 elements must be integers in [0, 65535], got 70000`,
  ],
  [
    'a truncated BYTES length prefix',
    input({ datatype: 'BYTES', shape: [1] }, Buffer.from([1, 0])),
    'raw_input_contents[0] ("x"): BYTES element 0 has a truncated length prefix',
    'FLT_INVALID_BINARY',
  ],
  [
    'a parameter without a value',
    base({ parameters: { p: {} } }),
    `parameters["p"]: has no value (set one of bool_param, int64_param, string_param, double_param, uint64_param)`,
  ],
  ['an unnamed output', base({ outputs: [{ name: '' }] }), 'outputs[0].name: required'],
];

describe('OIP gRPC codec: bad input is INVALID_ARGUMENT naming the field', () => {
  for (const [what, msg, message, code = 'FLT_INVALID_FIELD'] of BAD) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => decodeModelInferRequest(wireRequest(msg)),
        (err: unknown) => {
          assert.ok(err instanceof FlotillaError);
          assert.deepEqual(
            [err.message, err.code, err.grpcStatus],
            [message, code, GRPC_STATUS.INVALID_ARGUMENT],
          );
          return true;
        },
      );
    });
  }
});

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly label: string;
  readonly typeName: string;
}

/** A message's descriptor as proto-loader exposes it (nested messages and map entries inside). */
interface MessageDescriptor {
  readonly name: string;
  readonly field: readonly FieldDescriptor[];
  readonly nestedType: readonly MessageDescriptor[];
}

const messageOf = (def: PackageDefinition, name: string): MessageDescriptor | undefined => {
  const entry = def[name];
  if (entry?.format !== 'Protocol Buffer 3 DescriptorProto') return undefined;
  return entry.type as MessageDescriptor;
};

const fieldsOf = (def: PackageDefinition, name: string): readonly FieldDescriptor[] | undefined =>
  messageOf(def, name)?.field;

/**
 * Checks that `ours` has every field of `theirs` (and of their nested messages) under the same
 * number with the same type; names too, unless `renamed`. Returns the number of fields compared.
 */
function compareMessage(
  path: string,
  theirs: MessageDescriptor,
  ours: MessageDescriptor,
  renamed: ReadonlySet<string>,
): number {
  let checked = 0;
  for (const f of theirs.field) {
    const o: FieldDescriptor | undefined = ours.field.find((x) => x.number === f.number);
    assert.ok(o, `${path} has no field ${f.number} (${f.name})`);
    assert.deepEqual([o.type, o.label, o.typeName], [f.type, f.label, f.typeName], `${path}.${f.name}`);
    if (!renamed.has(path)) assert.equal(o.name, f.name, `${path} field ${f.number}`);
    checked++;
  }
  for (const nested of theirs.nestedType) {
    const mine = ours.nestedType.find((n) => n.name === nested.name);
    assert.ok(mine, `${path}.${nested.name} is missing`);
    checked += compareMessage(`${path}.${nested.name}`, nested, mine, renamed);
  }
  return checked;
}

describe('proto/grpc_service.proto is wire-compatible with KServe', () => {
  const kserve = loadSync(`${ROOT}test/fixtures/kserve/grpc_predict_v2.proto`, PROTO_LOADER_OPTIONS);

  it('has every KServe message, nested ones too, with the same field numbers, types and names', () => {
    // KServe's python proto names field 1 model_name where Triton has repository_name (see the proto).
    const renamed = new Set([
      'inference.RepositoryModelLoadRequest',
      'inference.RepositoryModelUnloadRequest',
    ]);
    let checked = 0;
    for (const name of Object.keys(kserve)) {
      const theirs = messageOf(kserve, name);
      if (!theirs) continue;
      const ours = messageOf(definition, name);
      assert.ok(ours, `${name} is missing`);
      checked += compareMessage(name, theirs, ours, renamed);
    }
    // Every field of the fixture, map entries (key = 1, value = 2) included.
    assert.ok(checked >= 60, `only ${checked} fields compared`);
  });

  it("serves every KServe RPC at the same path, and Triton's InferParameter superset", () => {
    const methods = (def: PackageDefinition): string[] =>
      Object.values(def[OIP_GRPC_SERVICE] as Record<string, MethodDefinition<object, object>>).map(
        (m) => m.path,
      );
    for (const path of methods(kserve)) assert.ok(methods(definition).includes(path), path);
    assert.deepEqual(
      fieldsOf(definition, 'inference.InferParameter')!.map((f) => `${f.name}=${f.number}:${f.type}`),
      [
        'bool_param=1:TYPE_BOOL',
        'int64_param=2:TYPE_INT64',
        'string_param=3:TYPE_STRING',
        'double_param=4:TYPE_DOUBLE',
        'uint64_param=5:TYPE_UINT64',
      ],
    );
  });
});
