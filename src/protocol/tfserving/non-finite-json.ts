import { InvalidRequestError } from '../../core/index.js';

/**
 * TF Serving's JSON is JSON plus the tokens `NaN`, `Infinity` and `-Infinity` (it parses with
 * rapidjson's kParseNanAndInfFlag and writes non-finite floats so). Bodies are parsed by
 * JSON.parse first; only a body it refuses that holds one of these tokens is rewritten and
 * parsed again, so the common path costs nothing more.
 */

/** What a `NaN` token becomes before JSON.parse; the reviver turns it back into NaN. */
const NAN_MARK = '\u0000NaN';
/** `NAN_MARK` as JSON text: a string holding it can only be written with this escape. */
const NAN_MARK_JSON = '"\\u0000NaN"';

/** Whether `text[at]` ends a token: a JSON delimiter, white space or the end. */
function endsToken(text: string, at: number): boolean {
  if (at >= text.length) return true;
  const c = text.charCodeAt(at);
  // , ] } space tab LF CR
  return c === 44 || c === 93 || c === 125 || c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * The text with every `NaN`, `Infinity` and `-Infinity` outside strings replaced by JSON that
 * parses to the same value: `1e999` (JSON.parse reads it as Infinity), `-1e999`, and for NaN a
 * marker string the reviver maps back. `hasNaN` says whether the reviver is needed; `clash` that
 * some string could decode to the marker (it holds a \u0000 escape), in which case the markers
 * cannot be told apart and the body is refused.
 */
function rewrite(text: string): { text: string; hasNaN: boolean; clash: boolean } {
  const parts: string[] = [];
  let from = 0;
  let hasNaN = false;
  let clash = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip the string, escapes included; note a \u0000 escape (see `clash`).
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) {
          if (text.startsWith('u0000', i + 1)) clash = true;
          i++;
        } else if (d === 34) break;
      }
      continue;
    }
    let token: string | undefined;
    let replacement = '';
    if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      token = 'NaN';
      replacement = NAN_MARK_JSON;
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      token = 'Infinity';
      replacement = '1e999';
    } else if (c === 45 /* - */ && text.startsWith('-Infinity', i)) {
      token = '-Infinity';
      replacement = '-1e999';
    }
    if (token === undefined || !endsToken(text, i + token.length)) continue;
    parts.push(text.slice(from, i), replacement);
    if (token === 'NaN') hasNaN = true;
    i += token.length - 1;
    from = i + 1;
  }
  parts.push(text.slice(from));
  return { text: parts.join(''), hasNaN, clash };
}

function invalidJson(err: unknown): InvalidRequestError {
  return new InvalidRequestError(
    'FLT_INVALID_JSON',
    `request body is not valid JSON: ${(err as Error).message}`,
  );
}

/**
 * Parses a TF Serving request body: JSON, with `NaN`, `Infinity` and `-Infinity` accepted as
 * numbers where a value may stand (inside strings they stay text). Anything else JSON.parse
 * refuses is FLT_INVALID_JSON with its message.
 */
export function parseTfJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!text.includes('NaN') && !text.includes('Infinity')) throw invalidJson(err);
    const r = rewrite(text);
    if (r.clash && r.hasNaN) throw invalidJson(err);
    try {
      return r.hasNaN
        ? JSON.parse(r.text, (_key, value: unknown) => (value === NAN_MARK ? Number.NaN : value))
        : JSON.parse(r.text);
    } catch {
      // The first error names the body as sent, not as rewritten.
      throw invalidJson(err);
    }
  }
}

/** Parses a TF Serving request body given as bytes (UTF-8); see `parseTfJson`. */
export function parseTfJsonBody(body: Uint8Array): unknown {
  return parseTfJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
}
