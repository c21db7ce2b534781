import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ocrSettings } from '../../examples/pipelines/ocr/settings.js';
import {
  decodeImage,
  isBase64Text,
  pngSize,
  singleImage,
} from '../../examples/pipelines/shared/image-input.js';
import { INVALID_INPUT_CODE, InvalidInputError } from '../../examples/pipelines/shared/invalid-input.js';
import type { Tensor } from '../../src/core/index.js';
import { pngDeclaring } from '../helpers/text-image.js';

const rejects = async (p: Promise<unknown>, message: RegExp): Promise<void> => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.equal(err.code, INVALID_INPUT_CODE);
    assert.match(err.message, message);
    return true;
  });
};

describe('pipeline image input', () => {
  const opts = { maxPixels: 10_000, channels: 3 } as const;

  it('decodes PNG and JPEG to RGB, transparent pixels on white, grey to one channel', async () => {
    const rgba = await sharp({
      create: { width: 4, height: 2, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const img = await decodeImage(rgba, opts);
    assert.deepEqual([img.width, img.height, img.channels, img.data.length], [4, 2, 3, 24]);
    assert.deepEqual([...img.data.subarray(0, 3)], [255, 255, 255]);
    const jpeg = await sharp({ create: { width: 5, height: 3, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    const grey = await decodeImage(jpeg, { maxPixels: 100, channels: 1 });
    assert.deepEqual([grey.width, grey.height, grey.channels, grey.data.length], [5, 3, 1, 15]);
  });

  it('names what is wrong with a bad image', async () => {
    const png = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await rejects(decodeImage(new Uint8Array(0), opts), /image is empty \(0 bytes\)/);
    await rejects(
      decodeImage(Buffer.from('not an image at all'), opts),
      /cannot be read, it is not a PNG, JPEG or WebP/,
    );
    await rejects(
      decodeImage(png.subarray(0, png.length >> 1), opts),
      /cannot be decoded \(truncated or corrupt png\)/,
    );
    await rejects(decodeImage(pngDeclaring(0, 0), opts), /image is zero-sized \(0×0\)/);
    const wide = await sharp({ create: { width: 200, height: 60, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await rejects(
      decodeImage(wide, opts),
      /image is too large: 200×60 = 12000 pixels, over the limit of 10000/,
    );
    await rejects(
      decodeImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'), opts),
      /format svg is not accepted/,
    );
  });

  it('checks the declared size before decoding', async () => {
    await rejects(decodeImage(pngDeclaring(1000, 1000), opts), /1000×1000 = 1000000 pixels, over the limit/);
    const one = await decodeImage(pngDeclaring(1, 1), opts);
    assert.deepEqual([...one.data], [255, 255, 255]);
  });

  it('reads the size a PNG header declares', () => {
    assert.deepEqual(pngSize(pngDeclaring(7, 9)), { width: 7, height: 9 });
    assert.equal(pngSize(Buffer.from('GIF89a and more bytes to reach 24')), undefined);
  });

  it('takes exactly one BYTES element', () => {
    const bytes = (n: number): Tensor => ({
      name: 'image',
      datatype: 'BYTES',
      shape: [n],
      data: Array.from({ length: n }, () => new Uint8Array(1)),
    });
    assert.equal(singleImage({ image: bytes(1) }, 'image').length, 1);
    assert.throws(
      () => singleImage({ image: bytes(2) }, 'image'),
      /must be one encoded image \(BYTES \[1\]\), got BYTES \[2\]/,
    );
    assert.throws(() => singleImage({}, 'image'), /input "image" is missing/);
  });

  it('decodes a plain base64 string (Paddle image clients) and passes encoded images as they are', async () => {
    const png = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const jpeg = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    const one = (data: Uint8Array): Record<string, Tensor> => ({
      image: { name: 'image', datatype: 'BYTES', shape: [1], data: [data] },
    });
    for (const image of [png, jpeg]) {
      assert.deepEqual(Buffer.from(singleImage(one(image), 'image')), image);
      for (const text of [image.toString('base64'), image.toString('base64url')]) {
        assert.deepEqual(Buffer.from(singleImage(one(Buffer.from(text)), 'image')), image);
      }
    }
    assert.equal(isBase64Text(Buffer.from('not an image at all')), false);
    assert.equal(isBase64Text(Buffer.from('abc')), false);
    assert.equal(isBase64Text(Buffer.from('ab=c')), false);
    assert.equal(isBase64Text(Buffer.from('abcd')), true);
    // Base64 text of something that is not an image is still refused by the decoder, by name.
    await rejects(
      decodeImage(singleImage(one(Buffer.from('bm90IGFuIGltYWdl')), 'image'), opts),
      /cannot be read, it is not a PNG, JPEG or WebP/,
    );
  });
});

describe('ocr settings', () => {
  it('defaults to PaddleOCR’s values and names a bad parameter', () => {
    const s = ocrSettings({});
    assert.equal(s.detLimitSide, 960);
    assert.deepEqual([s.db.thresh, s.db.boxThresh, s.db.unclipRatio], [0.3, 0.6, 1.5]);
    assert.deepEqual([s.clsThresh, s.dropScore, s.maxPixels], [0.9, 0.5, 40_000_000]);
    assert.equal(ocrSettings({ det_limit_side: 640 }).detLimitSide, 640);
    assert.throws(
      () => ocrSettings({ det_thresh: 'high' }),
      /parameters\.det_thresh: expected a number in \[0, 1\], got "high"/,
    );
    assert.throws(() => ocrSettings({ rec_batch: 2.5 }), /parameters\.rec_batch: expected an integer/);
    assert.throws(() => ocrSettings({ keys_file: '' }), /parameters\.keys_file/);
  });
});
