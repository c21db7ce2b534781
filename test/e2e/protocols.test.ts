import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OipGrpcClient, OipHttpClient } from '../../src/client/index.js';
import { bytesToStrings, type Tensor } from '../../src/core/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { type Digit, digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { tempRepository } from '../helpers/temp-repo.js';

/** Each output as plain values: numbers rounded to float32, BYTES as strings. */
type Outputs = Record<string, (number | string)[]>;

function plain(outputs: readonly Tensor[]): Outputs {
  return Object.fromEntries(
    outputs.map((t) => [
      t.name,
      t.datatype === 'BYTES' ? bytesToStrings(t.data as Uint8Array[]) : Array.from(t.data as Float32Array),
    ]),
  );
}

const flat = (v: unknown): (number | string)[] =>
  Array.isArray(v) ? v.flatMap(flat) : [typeof v === 'number' ? Math.fround(v) : (v as string)];

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

/** One front end: runs `model` (version 2 for mnist) on a batch of digits and returns its outputs. */
interface FrontEnd {
  readonly name: string;
  run(model: string, digits: readonly Digit[], outputs: readonly string[]): Promise<Outputs>;
}

describe('every front end gives the same answers', () => {
  const repo = tempRepository(['mnist'], ['classify']);
  let server: FlotillaProcess;
  let http: OipHttpClient;
  let grpc: OipGrpcClient;
  const digits = heldOutDigits().filter((_, i) => i % 83 === 0);
  const rows = digits.map((d) => Array.from(d.pixels));

  before(async () => {
    server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0']);
    http = new OipHttpClient({ baseUrl: server.url });
    grpc = new OipGrpcClient({ address: server.grpcAddress });
  });
  after(async () => {
    await http.close();
    grpc.close();
    assert.equal(await server.stop(), 0);
    repo.remove();
  });

  const request = (model: string, ds: readonly Digit[]) => ({
    ...digitsRequest(ds, model === 'mnist' ? '2' : undefined),
    model,
  });
  const frontEnds: FrontEnd[] = [
    { name: 'OIP HTTP JSON', run: async (m, ds) => plain((await http.infer(request(m, ds))).outputs) },
    {
      name: 'OIP HTTP binary',
      run: async (m, ds) =>
        plain((await http.infer(request(m, ds), { binaryInputs: true, binaryOutputs: true })).outputs),
    },
    { name: 'OIP gRPC typed', run: async (m, ds) => plain((await grpc.infer(request(m, ds))).outputs) },
    {
      name: 'OIP gRPC raw',
      run: async (m, ds) => plain((await grpc.infer(request(m, ds), { raw: true })).outputs),
    },
    {
      name: 'TF Serving row',
      run: async (m, _ds, outputs) => {
        const path = m === 'mnist' ? '/v1/models/mnist/versions/2:predict' : `/v1/models/${m}:predict`;
        const { predictions } = (await postJson(server.url + path, { instances: rows })) as {
          predictions: unknown[];
        };
        if (outputs.length === 1) return { [outputs[0]!]: flat(predictions) };
        return Object.fromEntries(
          outputs.map((o) => [o, flat(predictions.map((p) => (p as Record<string, unknown>)[o]))]),
        );
      },
    },
    {
      name: 'TF Serving columnar',
      run: async (m, _ds, outputs) => {
        const path = m === 'mnist' ? '/v1/models/mnist/versions/2:predict' : `/v1/models/${m}:predict`;
        const body = (await postJson(server.url + path, { inputs: { image: rows } })) as { outputs: unknown };
        if (outputs.length === 1) return { [outputs[0]!]: flat(body.outputs) };
        return Object.fromEntries(
          outputs.map((o) => [o, flat((body.outputs as Record<string, unknown>)[o])]),
        );
      },
    },
    {
      name: 'Paddle',
      run: async (m, _ds, outputs) => {
        const body = (await postJson(`${server.url}/${m}/prediction`, {
          feed: rows.map((image) => ({ image })),
          fetch: outputs,
        })) as {
          result: Record<string, unknown>;
        };
        return Object.fromEntries(outputs.map((o) => [o, flat(body.result[o])]));
      },
    },
  ];

  const models: { model: string; outputs: string[] }[] = [
    { model: 'mnist', outputs: ['probs'] },
    { model: 'classify', outputs: ['label', 'prob'] },
  ];

  for (const { model, outputs } of models) {
    describe(model, () => {
      let reference: Outputs;
      for (const fe of frontEnds) {
        it(`${fe.name}`, async () => {
          const got = await fe.run(model, digits, outputs);
          reference ??= got;
          assert.deepEqual(Object.keys(got).sort(), [...outputs].sort());
          for (const o of outputs) assert.deepEqual(got[o], reference[o], `${fe.name}: output ${o}`);
          assert.equal(got[outputs[0]!]!.length, model === 'mnist' ? digits.length * 10 : digits.length);
        });
      }
    });
  }
});
