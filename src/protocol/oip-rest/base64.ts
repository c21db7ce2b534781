import { InvalidRequestError, previewJson } from '../../core/index.js';

// Standard alphabet, padding optional (TF Serving's and Triton's decoders accept both). A plain
// character class, checked with the length rules below: a grouped quantifier such as
// `(?:[A-Za-z0-9+/]{4})*` overflows the regexp stack on 16 MiB of text (a RangeError, so a 500).
const ALPHABET = /^[A-Za-z0-9+/]*(={0,2})$/;

/** Whether text is base64: the alphabet, then 0-2 `=`; padded text comes in groups of 4. */
function isBase64(text: string): boolean {
  const m = ALPHABET.exec(text);
  if (!m) return false;
  const padding = m[1]!.length;
  // A lone character in the last group carries fewer than 8 bits: no byte.
  return padding > 0 ? text.length % 4 === 0 : text.length % 4 !== 1;
}

/**
 * Decodes base64 text strictly, for every front end that carries bytes as base64 (OIP's
 * `content_type: base64`, TF Serving's and Paddle's `{"b64": …}`): `Buffer.from(text, 'base64')`
 * silently skips characters outside the alphabet, so `!!!$$$***` inside an image's base64 would
 * still decode to an image. `field` names the value in the 400.
 */
export function decodeBase64(text: string, field: string): Uint8Array {
  if (!isBase64(text)) {
    throw new InvalidRequestError(
      'FLT_INVALID_FIELD',
      `${field}: ${previewJson(text, 26)} is not valid base64`,
    );
  }
  return Buffer.from(text, 'base64');
}
