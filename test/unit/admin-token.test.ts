import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken, checkAdminToken, FlotillaError } from '../../src/core/index.js';

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof FlotillaError);
    return err.code;
  }
};

describe('bearerToken', () => {
  const cases: [string | string[] | undefined, string | undefined][] = [
    ['Bearer sesame', 'sesame'],
    // RFC 7235 §2.1: the auth-scheme is case-insensitive (the finding: "bearer x" was refused).
    ['bearer sesame', 'sesame'],
    ['BEARER sesame', 'sesame'],
    ['Bearer   sesame', 'sesame'],
    ['Bearer sesame ', 'sesame'],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Bearersesame', undefined],
    ['Basic c2VzYW1l', undefined],
    ['Bearer ses ame', undefined],
    ['', undefined],
    [undefined, undefined],
    [['Bearer sesame'], undefined],
  ];
  for (const [header, want] of cases) {
    it(`${JSON.stringify(header)} → ${String(want)}`, () => assert.equal(bearerToken(header), want));
  }
});

describe('checkAdminToken', () => {
  it('refuses every call when no token is configured, naming the flag', () => {
    assert.equal(
      codeOf(() => checkAdminToken('Bearer x', undefined, 'server')),
      'FLT_ADMIN_DISABLED',
    );
    assert.equal(
      codeOf(() => checkAdminToken('Bearer x', '', 'gateway')),
      'FLT_ADMIN_DISABLED',
    );
    assert.throws(
      () => checkAdminToken(undefined, undefined, 'gateway'),
      /start the gateway with --admin-token/,
    );
  });

  it('accepts the token under any case of the scheme', () => {
    assert.equal(
      codeOf(() => checkAdminToken('Bearer sesame', 'sesame', 'server')),
      undefined,
    );
    assert.equal(
      codeOf(() => checkAdminToken('bearer sesame', 'sesame', 'server')),
      undefined,
    );
  });

  it('refuses wrong tokens of every length, and headers without one', () => {
    for (const header of [
      'Bearer sesam',
      'Bearer sesame2',
      'Bearer SESAME',
      'Bearer x',
      'sesame',
      undefined,
    ]) {
      assert.equal(
        codeOf(() => checkAdminToken(header, 'sesame', 'gateway')),
        'FLT_UNAUTHENTICATED',
        String(header),
      );
    }
  });
});
