import { type BytesArray, elementCount, fromHalfBits, type Tensor } from '../../core/index.js';

/**
 * Writing tensors as nested JSON lists (TF Serving's and Paddle Serving's answers). The text is
 * built directly: JSON.stringify cannot write INT64 elements without losing digits.
 */

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** True when every element is valid UTF-8, so it can travel as a JSON string. */
export function isUtf8(data: BytesArray): boolean {
  try {
    for (const b of data) utf8Strict.decode(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * How non-finite floats are written: `null` (JSON has no NaN or Infinity; OIP and Paddle answers
 * write null) or `tokens`, TF Serving's `NaN`, `Infinity` and `-Infinity` (what its own JSON
 * writer emits, and what its clients parse).
 */
export type NonFinite = 'null' | 'tokens';

function nullText(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

function tokenText(v: number): string {
  // String(v) already gives "NaN", "Infinity" and "-Infinity".
  return String(v);
}

/**
 * The JSON text of every element of a tensor, in row-major order. BYTES elements are JSON
 * strings, or TF Serving's `{"b64": "…"}` objects when `bytesAsBase64` is set.
 */
export function elementTexts(t: Tensor, bytesAsBase64: boolean, nonFinite: NonFinite = 'null'): string[] {
  const floatText = nonFinite === 'tokens' ? tokenText : nullText;
  switch (t.datatype) {
    case 'BYTES':
      return bytesAsBase64
        ? t.data.map(
            (b) => `{"b64":"${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}"}`,
          )
        : t.data.map((b) => JSON.stringify(utf8Strict.decode(b)));
    case 'BOOL':
      return Array.from(t.data, (v) => (v ? 'true' : 'false'));
    case 'FP16':
      return Array.from(t.data, (v) => floatText(fromHalfBits(v)));
    case 'FP32':
    case 'FP64':
      return Array.from(t.data, floatText);
    case 'INT64':
    case 'UINT64':
      // BigInt prints its exact decimal digits, which JSON reads as a number.
      return Array.from(t.data as ArrayLike<bigint>, String);
    default:
      return Array.from(t.data as ArrayLike<number>, String);
  }
}

/**
 * Nests element texts into JSON lists following `shape`, starting at element `offset`; a shape
 * of `[]` gives the single element itself.
 */
export function nestedJson(elements: readonly string[], shape: readonly number[], offset = 0): string {
  if (shape.length === 0) return elements[offset] ?? 'null';
  const n = shape[0]!;
  const inner = shape.slice(1);
  if (inner.length === 0) return `[${elements.slice(offset, offset + n).join(',')}]`;
  const stride = elementCount(inner);
  const parts: string[] = new Array(n);
  for (let i = 0; i < n; i++) parts[i] = nestedJson(elements, inner, offset + i * stride);
  return `[${parts.join(',')}]`;
}
