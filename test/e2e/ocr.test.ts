import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { OipHttpClient } from '../../src/client/index.js';
import { bytesToStrings, type InferResponse, type Tensor } from '../../src/core/index.js';
import { type FlotillaProcess, startServe } from '../helpers/flotilla-process.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';
import { badImages, charAccuracy, renderTextImage } from '../helpers/text-image.js';

/** What the ocr pipeline read: lines in order, their scores and boxes ([x, y] × 4 each). */
interface Reading {
  readonly text: string[];
  readonly score: Float32Array;
  readonly boxes: number[][][];
}

function reading(res: InferResponse): Reading {
  const out = (name: string): Tensor => res.outputs.find((o) => o.name === name)!;
  const box = out('box').data as Float32Array;
  return {
    text: bytesToStrings(out('text').data as Uint8Array[]),
    score: out('score').data as Float32Array,
    boxes: Array.from({ length: box.length / 8 }, (_, i) =>
      Array.from({ length: 4 }, (_, c) => [box[i * 8 + c * 2]!, box[i * 8 + c * 2 + 1]!]),
    ),
  };
}

const imageInput = (bytes: Uint8Array): Tensor => ({
  name: 'image',
  datatype: 'BYTES',
  shape: [1],
  data: [bytes],
});

describe('ocr pipeline: PaddleOCR models over OIP v2 HTTP', () => {
  let server: FlotillaProcess;
  let client: OipHttpClient;

  before(async () => {
    server = await startServe([
      '--model-repository',
      EXAMPLE_MODELS,
      '--models',
      'ocr,ocr_det,ocr_cls,ocr_rec',
      '--poll-interval',
      '0',
    ]);
    client = new OipHttpClient({ baseUrl: server.url });
  });
  after(async () => {
    await client.close();
    assert.equal(await server.stop(), 0);
  });

  /** Sends the image as base64 JSON, the way a curl user would. */
  async function readJson(png: Buffer): Promise<Reading> {
    const res = await fetch(`${server.url}/v2/models/ocr/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'image',
            datatype: 'BYTES',
            shape: [1],
            parameters: { content_type: 'base64' },
            data: [png.toString('base64')],
          },
        ],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as {
      outputs: { name: string; shape: number[]; data: (string | number)[] }[];
    };
    const get = (name: string) => body.outputs.find((o) => o.name === name)!;
    const box = get('box').data as number[];
    assert.deepEqual(get('box').shape, [get('text').shape[0], 4, 2]);
    return {
      text: get('text').data as string[],
      score: Float32Array.from(get('score').data as number[]),
      boxes: Array.from({ length: box.length / 8 }, (_, i) =>
        Array.from({ length: 4 }, (_, c) => [box[i * 8 + c * 2]!, box[i * 8 + c * 2 + 1]!]),
      ),
    };
  }

  /** Sends the image in the binary extension. */
  async function readBinary(image: Buffer): Promise<Reading> {
    return reading(await client.infer({ model: 'ocr', inputs: [imageInput(image)] }, { binaryInputs: true }));
  }

  it('reads an English line exactly, as base64 JSON, with its box inside the image', async (t) => {
    const png = await renderTextImage(['Hello Flotilla 2026']);
    const { width = 0, height = 0 } = await sharp(png).metadata();
    const r = await readJson(png);
    t.diagnostic(`read ${JSON.stringify(r.text)} score ${r.score[0]?.toFixed(3)}`);
    assert.deepEqual(r.text, ['Hello Flotilla 2026']);
    assert.ok(r.score[0]! > 0.9);
    for (const [x, y] of r.boxes[0]!) assert.ok(x! >= 0 && x! < width && y! >= 0 && y! < height);
  });

  it('reads a Chinese line exactly, in the binary extension, from PNG and from JPEG', async (t) => {
    for (const format of ['png', 'jpeg'] as const) {
      const r = await readBinary(await renderTextImage(['模型服务'], { format }));
      t.diagnostic(`${format}: ${JSON.stringify(r.text)}`);
      assert.deepEqual(r.text, ['模型服务']);
    }
  });

  const page = [
    '弹性模型服务平台 Flotilla',
    'One command runs a fleet of model servers',
    '网关按权重选择变体，支持灰度发布',
    'Canary weight 10 percent, p99 < 50 ms',
    '自动扩缩容到零',
    'ResNet50 accuracy 0.93 at 1000 images/s',
  ];

  it('reads a page mixing Chinese and English, top to bottom, with character accuracy >= 0.9', async (t) => {
    const r = await readBinary(await renderTextImage(page, { fontSize: 28 }));
    const accuracy = charAccuracy(page.join('\n'), r.text.join('\n'));
    t.diagnostic(`read ${JSON.stringify(r.text)}; character accuracy ${accuracy.toFixed(3)}`);
    assert.ok(accuracy >= 0.9, `character accuracy ${accuracy}`);
    assert.equal(r.text.length, page.length);
    const tops = r.boxes.map((b) => Math.min(...b.map((p) => p[1]!)));
    for (let i = 1; i < tops.length; i++)
      assert.ok(tops[i]! > tops[i - 1]!, `box ${i} is below box ${i - 1}`);
  });

  it('sets upside-down lines right with the direction classifier', async (t) => {
    const lines = ['Upside down still reads', '倒过来的文字', 'The right way up'];
    const r = await readBinary(await renderTextImage(lines, { upsideDown: [0, 1] }));
    t.diagnostic(`read ${JSON.stringify(r.text)}`);
    assert.deepEqual(r.text, lines);
  });

  it('answers 400 naming what is wrong with a bad image, and keeps serving', async () => {
    for (const bad of await badImages()) {
      const res = await fetch(`${server.url}/v2/models/ocr/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [
            {
              name: 'image',
              datatype: 'BYTES',
              shape: [1],
              parameters: { content_type: 'base64' },
              data: [bad.bytes.toString('base64')],
            },
          ],
        }),
      });
      const body = (await res.json()) as { error: string; code: string };
      assert.equal(res.status, 400, `${bad.name}: ${body.error}`);
      assert.equal(body.code, 'FLT_INVALID_FIELD');
      assert.match(body.error, /^ocr:1: /);
      assert.match(body.error, bad.error, bad.name);
    }
    assert.deepEqual((await readBinary(await renderTextImage(['still serving']))).text, ['still serving']);
  });

  it('leaves out timing_ms when only the reading is asked for', async () => {
    const res = await client.infer(
      {
        model: 'ocr',
        inputs: [imageInput(await renderTextImage(['42']))],
        outputs: [{ name: 'text' }, { name: 'box' }],
      },
      { binaryInputs: true },
    );
    assert.deepEqual(
      res.outputs.map((o) => o.name),
      ['text', 'box'],
    );
    const full = await client.infer(
      { model: 'ocr', inputs: [imageInput(await renderTextImage(['42']))] },
      { binaryInputs: true },
    );
    const timing = full.outputs.find((o) => o.name === 'timing_ms')!;
    assert.deepEqual(timing.shape, [5]);
    for (const ms of timing.data as Float32Array) assert.ok(ms >= 0 && ms < 60_000);
  });
});
