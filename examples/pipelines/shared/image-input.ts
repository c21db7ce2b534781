import sharp, { type Metadata, type OutputInfo } from 'sharp';
import type { Tensor } from '../../../src/core/index.js';
import { InvalidInputError } from './invalid-input.js';

/** Formats a pipeline decodes; SVG, PDF and the rest are refused rather than rendered. */
export const ACCEPTED_FORMATS: readonly string[] = ['png', 'jpeg', 'webp'];

/** A decoded image: interleaved 8-bit pixels, row-major, `channels` per pixel. */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  /** 3 (RGB) or 1 (grey). */
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/**
 * The one encoded image of a BYTES `[1]` input. Throws InvalidInputError when the tensor holds
 * anything else, so a client's mistake is a 400 that names the input. Paddle's image clients send
 * the picture as a plain base64 string (their server's preprocessing decodes it), where OIP and TF
 * Serving clients send the bytes (`{"b64": …}` or binary): base64 text is decoded here, and every
 * encoded image starts with a byte that is not base64 text (PNG 0x89, JPEG 0xFF, WebP's size
 * after "RIFF"), so the two readings cannot be confused.
 */
export function singleImage(inputs: Readonly<Record<string, Tensor>>, name: string): Uint8Array {
  const t = inputs[name];
  if (t === undefined) throw new InvalidInputError(`input "${name}" is missing`);
  if (t.datatype !== 'BYTES' || t.data.length !== 1) {
    throw new InvalidInputError(
      `input "${name}" must be one encoded image (BYTES [1]), got ${t.datatype} [${t.shape.join(',')}]`,
    );
  }
  const bytes = t.data[0]!;
  return isBase64Text(bytes) ? Buffer.from(Buffer.from(bytes).toString('latin1'), 'base64') : bytes;
}

/** Base64 (standard or URL-safe alphabet, padded or not), at least one 4-character group. */
const BASE64_TEXT = /^(?:[A-Za-z0-9+/_-]{4})+(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

/** Whether bytes are base64 text (whitespace-free, as JSON clients send it). */
export function isBase64Text(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 4) return false;
  // Checked on the first bytes before the regex runs over the whole text.
  for (let i = 0; i < Math.min(bytes.byteLength, 16); i++) {
    const c = bytes[i]!;
    if (c > 0x7a || c < 0x2b) return false;
  }
  return BASE64_TEXT.test(Buffer.from(bytes).toString('latin1'));
}

/**
 * Decodes an encoded PNG, JPEG or WebP into raw pixels, honouring its EXIF orientation and
 * putting transparent pixels on white (a drawing on a transparent canvas reads as ink on paper).
 *
 * Checks the header before decoding so an image that is empty, not an image, of zero size or of
 * more than `maxPixels` pixels is refused with a message naming the problem, without spending
 * memory on it; a file whose body is truncated or corrupt fails in the decoder and says so.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: { readonly maxPixels: number; readonly channels: 1 | 3 },
): Promise<RawImage> {
  if (bytes.byteLength === 0) throw new InvalidInputError('image is empty (0 bytes)');
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    // The decoder calls a PNG declaring 0 × 0 pixels "corrupt": say what is wrong with it.
    const png = pngSize(bytes);
    if (png && (png.width === 0 || png.height === 0)) {
      throw new InvalidInputError(`image is zero-sized (${png.width}×${png.height})`, { cause: err });
    }
    throw new InvalidInputError(
      `image cannot be read, it is not a PNG, JPEG or WebP or its header is corrupt: ${message(err)}`,
      { cause: err },
    );
  }
  if (!ACCEPTED_FORMATS.includes(meta.format)) {
    throw new InvalidInputError(
      `image format ${meta.format} is not accepted (accepted: ${ACCEPTED_FORMATS.join(', ')})`,
    );
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width === 0 || height === 0) throw new InvalidInputError(`image is zero-sized (${width}×${height})`);
  if (width * height > options.maxPixels) {
    throw new InvalidInputError(
      `image is too large: ${width}×${height} = ${width * height} pixels, over the limit of ${options.maxPixels} (parameters.max_pixels)`,
    );
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(bytes, { limitInputPixels: options.maxPixels, failOn: 'error' })
      .autoOrient()
      .flatten({ background: '#ffffff' });
    pipeline = options.channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb');
    decoded = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new InvalidInputError(
      `image cannot be decoded (truncated or corrupt ${meta.format}): ${message(err)}`,
      {
        cause: err,
      },
    );
  }
  const { data, info } = decoded;
  // A decoder surprise is the server's bug, not the client's: a plain Error (500).
  if (info.channels !== options.channels) {
    throw new Error(`decoder returned ${info.channels} channels instead of ${options.channels}`);
  }
  return { width: info.width, height: info.height, channels: options.channels, data };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The size a PNG's header (its first chunk, IHDR) declares, or undefined for anything else. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.byteLength < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim();
}
