import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OipHttpClient } from '../../src/client/index.js';
import { bytesToStrings } from '../../src/core/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { argmaxRows, digitsRequest, heldOutDigits } from '../helpers/mnist.js';
import { tempRepository } from '../helpers/temp-repo.js';

describe('js backend: a pipeline calling another model', () => {
  const repo = tempRepository(['mnist'], ['classify']);
  let server: FlotillaProcess;
  let client: OipHttpClient;

  before(async () => {
    server = await startServe(['--model-repository', repo.dir, '--poll-interval', '0']);
    client = new OipHttpClient({ baseUrl: server.url });
  });
  after(async () => {
    await client.close();
    await server.stop();
    repo.remove();
  });

  it('labels digits with the names file, agreeing with mnist itself', async () => {
    const digits = heldOutDigits().filter((_, i) => i % 50 === 0);
    const direct = await client.infer(digitsRequest(digits, '2'));
    const expected = argmaxRows(direct.outputs[0]!.data as Float32Array, digits.length);
    const res = await client.infer({ ...digitsRequest(digits), model: 'classify' });
    const label = res.outputs.find((o) => o.name === 'label')!;
    const prob = res.outputs.find((o) => o.name === 'prob')!;
    assert.equal(label.datatype, 'BYTES');
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    assert.deepEqual(
      bytesToStrings(label.data as Uint8Array[]),
      expected.map((d) => names[d]),
    );
    for (const p of prob.data as Float32Array) assert.ok(p > 0.1 && p <= 1);
  });

  it('returns only the outputs asked for', async () => {
    const res = await client.infer({
      ...digitsRequest(heldOutDigits().slice(0, 2)),
      model: 'classify',
      outputs: [{ name: 'prob' }],
    });
    assert.deepEqual(
      res.outputs.map((o) => o.name),
      ['prob'],
    );
  });
});
