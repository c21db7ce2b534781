import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** Fonts tried in order: WenQuanYi Zen Hei (fonts-wqy-zenhei) covers Chinese and Latin. */
const FONT_FAMILY = "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif";

export interface TextImageOptions {
  /** Glyph size in pixels. Default 32. */
  readonly fontSize?: number;
  /** Blank margin around the text in pixels. Default 24. */
  readonly margin?: number;
  /** Indexes of lines drawn upside down (turned 180° about their centre). */
  readonly upsideDown?: readonly number[];
  /** Output encoding. Default png. */
  readonly format?: 'png' | 'jpeg';
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Approximate advance of a line: CJK glyphs are square, Latin ones about 0.6 em. */
function lineWidth(text: string, fontSize: number): number {
  let w = 0;
  for (const ch of text) w += /[\u2e80-\uffef]/.test(ch) ? fontSize : 0.62 * fontSize;
  return w;
}

/**
 * An image of black text lines on white, one line under the other, rendered from SVG text by
 * sharp (librsvg with the system's fonts), so tests need no image files.
 */
export async function renderTextImage(
  lines: readonly string[],
  options: TextImageOptions = {},
): Promise<Buffer> {
  const fontSize = options.fontSize ?? 32;
  const margin = options.margin ?? 24;
  const lineHeight = Math.round(fontSize * 1.8);
  const width = Math.ceil(margin * 2 + Math.max(...lines.map((l) => lineWidth(l, fontSize))));
  const height = margin * 2 + lineHeight * lines.length;
  const texts = lines.map((line, i) => {
    const baseline = margin + i * lineHeight + Math.round(fontSize * 1.2);
    const centreY = margin + i * lineHeight + lineHeight / 2;
    const turn = options.upsideDown?.includes(i)
      ? ` transform="rotate(180 ${margin + lineWidth(line, fontSize) / 2} ${centreY})"`
      : '';
    return `<text x="${margin}" y="${baseline}" font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="#111"${turn}>${escapeXml(line)}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${texts.join('')}</svg>`;
  const image = sharp(Buffer.from(svg)).flatten({ background: '#ffffff' });
  return options.format === 'jpeg' ? image.jpeg({ quality: 90 }).toBuffer() : image.png().toBuffer();
}

/** 1 − edit distance / expected length, in code points (1 is a perfect read). */
export function charAccuracy(expected: string, actual: string): number {
  const a = [...expected];
  const b = [...actual];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return a.length === 0 ? (b.length === 0 ? 1 : 0) : Math.max(0, 1 - prev[b.length]! / a.length);
}

/**
 * A PNG whose header declares `width` × `height` while its data holds one white pixel: what a
 * reader of the header sees, cheaply (a 0 × 0 image, or one over a pixel limit).
 */
export function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 255, 255, 255]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Broken images and the words a pipeline's 400 must contain for each. */
export async function badImages(): Promise<{ name: string; bytes: Buffer; error: RegExp }[]> {
  const png = await renderTextImage(['truncated']);
  return [
    {
      name: 'not an image',
      bytes: Buffer.from('%PDF-1.4 this is not an image'),
      error: /not a PNG, JPEG or WebP/,
    },
    { name: 'truncated PNG', bytes: png.subarray(0, png.length >> 1), error: /truncated or corrupt png/ },
    { name: 'empty', bytes: Buffer.alloc(0), error: /image is empty \(0 bytes\)/ },
    { name: 'zero-sized PNG', bytes: pngDeclaring(0, 0), error: /image is zero-sized \(0×0\)/ },
    {
      name: 'over the pixel limit',
      bytes: pngDeclaring(10_000, 5_000),
      error: /image is too large: 10000×5000 = 50000000 pixels, over the limit of 40000000/,
    },
  ];
}
