/**
 * CTC greedy decoding of the recogniser's output, after PaddleOCR's `CTCLabelDecode`.
 */

/** One recognised line. */
export interface Recognition {
  readonly text: string;
  /** Mean probability of the characters kept, 0 when none was. */
  readonly score: number;
}

/**
 * The recogniser's classes from the keys file: index 0 is CTC's blank, then one class per line
 * of the file, then a space (PaddleOCR's `use_space_char`; the Chinese model has 6,623 keys
 * and 6,625 classes).
 */
export function charsetFromKeys(keysText: string): string[] {
  const lines = keysText.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}

/** Characters written without spaces between them: Han, kana, Hangul, CJK and full-width punctuation. */
const WIDE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;

/** Options of `ctcGreedyDecode`. */
export interface CtcOptions {
  /**
   * A space goes between two characters when, in the blanks separating them, the space class
   * reaches this probability (1 turns it off: plain greedy decoding). PP-OCRv4's Chinese
   * recogniser rarely makes the space its first choice in small text, but gives it a little
   * weight in word gaps: measured on rendered lines, at least 0.002 in 97% of word gaps and at
   * most 0.0004 in 98% of gaps inside words. Never between two CJK characters. Default 0.002.
   */
  readonly spaceThresh: number;
}

/**
 * Decodes `[n, steps, classes]` probabilities: the most likely class at each step, repeats of
 * the same class merged, blanks dropped. A character repeated in the text comes out twice only
 * when a blank separates the two, which is what CTC trains the network to emit. The last class
 * is the space (see `charsetFromKeys`); spaces it would have missed are recovered per
 * `CtcOptions.spaceThresh` and do not count in the score.
 */
export function ctcGreedyDecode(
  probs: Float32Array,
  shape: readonly number[],
  charset: readonly string[],
  options: CtcOptions = { spaceThresh: 0.002 },
): Recognition[] {
  const [n = 0, steps = 0, classes = 0] = shape;
  if (shape.length !== 3 || classes !== charset.length) {
    throw new Error(
      `recogniser output has shape [${shape.join(',')}] but the keys file gives ${charset.length} classes`,
    );
  }
  const space = classes - 1;
  const out: Recognition[] = [];
  for (let i = 0; i < n; i++) {
    let text = '';
    let sum = 0;
    let kept = 0;
    let previous = -1;
    let last: string | undefined;
    // The space class's highest probability in the blanks since the last character.
    let gapSpace = 0;
    for (let t = 0; t < steps; t++) {
      const row = (i * steps + t) * classes;
      let best = 0;
      for (let c = 1; c < classes; c++) if (probs[row + c]! > probs[row + best]!) best = c;
      if (best === 0) {
        gapSpace = Math.max(gapSpace, probs[row + space]!);
      } else if (best !== previous) {
        const ch = charset[best]!;
        if (
          last !== undefined &&
          last !== ' ' &&
          best !== space &&
          gapSpace >= options.spaceThresh &&
          !(WIDE.test(last) && WIDE.test(ch))
        ) {
          text += ' ';
        }
        text += ch;
        last = ch;
        sum += probs[row + best]!;
        kept++;
        gapSpace = 0;
      }
      previous = best;
    }
    out.push({ text, score: kept > 0 ? sum / kept : 0 });
  }
  return out;
}
