import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { OipHttpClient, OipHttpError } from '../../src/client/index.js';
import { bytesToStrings, type Tensor } from '../../src/core/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { argmaxRows, type Digit, digitsRequest, heldOutDigits, mapConcurrent } from '../helpers/mnist.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';
import { badImages } from '../helpers/text-image.js';

/** The digit as a PNG file: its 784 pixels (white on black) upscaled to `side` × `side`. */
async function digitPng(d: Digit, side: number): Promise<Buffer> {
  const grey = Uint8Array.from(d.pixels, (v) => Math.round(v * 255));
  return sharp(grey, { raw: { width: 28, height: 28, channels: 1 } })
    .resize(side, side, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

const imageInput = (bytes: Uint8Array): Tensor => ({
  name: 'image',
  datatype: 'BYTES',
  shape: [1],
  data: [bytes],
});

describe('digit pipeline: encoded images of handwritten digits through mnist', () => {
  let server: FlotillaProcess;
  let client: OipHttpClient;
  const digits = heldOutDigits();

  before(async () => {
    server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'digit,mnist',
      '--poll-interval',
      '0',
    ]);
    client = new OipHttpClient({ baseUrl: server.url, connections: 8 });
  });
  after(async () => {
    await client.close();
    assert.equal(await server.stop(), 0);
  });

  it('answers {"label": ["7"], "prob": [p]} in JSON for a PNG sent as base64', async () => {
    const digit = digits.find((d) => d.label === 7)!;
    const res = await fetch(`${server.url}/v2/models/digit/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'image',
            datatype: 'BYTES',
            shape: [1],
            parameters: { content_type: 'base64' },
            data: [(await digitPng(digit, 56)).toString('base64')],
          },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      outputs: { name: string; datatype: string; data: (string | number)[] }[];
    };
    const label = body.outputs.find((o) => o.name === 'label')!;
    const prob = body.outputs.find((o) => o.name === 'prob')!;
    assert.equal(label.datatype, 'BYTES');
    assert.deepEqual(label.data, ['7']);
    assert.ok((prob.data[0] as number) > 0.5 && (prob.data[0] as number) <= 1);
  });

  it('reads a PNG sent by a Paddle image client: a plain base64 string in feed, one object or a list', async () => {
    const digit = digits.find((d) => d.label === 3)!;
    const b64 = (await digitPng(digit, 56)).toString('base64');
    for (const feed of [{ image: b64 }, [{ image: b64 }], [{ image: { b64 } }]]) {
      const res = await fetch(`${server.url}/digit/prediction`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ feed, fetch: ['label'] }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.deepEqual(JSON.parse(text), { result: { label: ['3'] } }, JSON.stringify(feed).slice(0, 40));
    }
  });

  it('classifies the 1,000 held-out digits as 56 × 56 PNG files as well as mnist does from raw pixels', async (t) => {
    const direct: number[] = [];
    for (let i = 0; i < digits.length; i += 50) {
      const batch = digits.slice(i, i + 50);
      const res = await client.infer(digitsRequest(batch, '2'));
      direct.push(...argmaxRows(res.outputs[0]!.data as Float32Array, batch.length));
    }
    const viaImage = await mapConcurrent(digits, 8, async (d) => {
      const res = await client.infer(
        { model: 'digit', inputs: [imageInput(await digitPng(d, 56))], outputs: [{ name: 'label' }] },
        { binaryInputs: true },
      );
      return Number(bytesToStrings(res.outputs[0]!.data as Uint8Array[])[0]);
    });
    const accuracy = (predicted: readonly number[]): number =>
      predicted.filter((p, i) => p === digits[i]!.label).length / digits.length;
    t.diagnostic(
      `held-out accuracy: mnist:2 on raw pixels ${accuracy(direct).toFixed(3)}, digit on PNG files ${accuracy(viaImage).toFixed(3)}`,
    );
    assert.ok(Math.abs(accuracy(direct) - accuracy(viaImage)) <= 0.01);
  });

  it('reads a dark digit on light paper, as a JPEG of another size', async () => {
    const sample = digits.filter((_, i) => i % 20 === 0);
    let agree = 0;
    for (const d of sample) {
      const grey = Uint8Array.from(d.pixels, (v) => 255 - Math.round(v * 255));
      const jpeg = await sharp(grey, { raw: { width: 28, height: 28, channels: 1 } })
        .resize(90, 90)
        .jpeg()
        .toBuffer();
      const res = await client.infer({ model: 'digit', inputs: [imageInput(jpeg)] }, { binaryInputs: true });
      if (
        bytesToStrings(res.outputs.find((o) => o.name === 'label')!.data as Uint8Array[])[0] ===
        String(d.label)
      )
        agree++;
    }
    assert.ok(agree / sample.length >= 0.9, `${agree} of ${sample.length}`);
  });

  it('answers 400 naming what is wrong with a bad image, and keeps serving', async () => {
    for (const bad of await badImages()) {
      await assert.rejects(
        client.infer({ model: 'digit', inputs: [imageInput(bad.bytes)] }, { binaryInputs: true }),
        (err: unknown) => {
          assert.ok(err instanceof OipHttpError);
          assert.equal(err.status, 400, `${bad.name}: ${err.message}`);
          assert.match(err.message, bad.error, bad.name);
          return true;
        },
      );
    }
    const res = await client.infer(
      { model: 'digit', inputs: [imageInput(await digitPng(digits[0]!, 28))] },
      { binaryInputs: true },
    );
    assert.equal(bytesToStrings(res.outputs[0]!.data as Uint8Array[]).length, 1);
  });
});
