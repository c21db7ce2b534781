import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlotillaError } from '../../src/core/index.js';
import { Router } from '../../src/server/index.js';

describe('Router', () => {
  const router = new Router<string>()
    .add('GET', '/v2/models/:model', 'meta')
    .add('POST', '/v2/models/:model/versions/:version/infer', 'infer')
    .add('POST', '/v1/models/:model:predict', 'predict');

  it('captures and decodes parameters', () => {
    assert.deepEqual(router.match('POST', '/v2/models/a%20b/versions/3/infer'), {
      handler: 'infer',
      params: { model: 'a b', version: '3' },
    });
  });
  it('matches a capture with a literal suffix', () => {
    assert.deepEqual(router.match('POST', '/v1/models/mnist:predict'), {
      handler: 'predict',
      params: { model: 'mnist' },
    });
  });
  it('answers HEAD with GET routes', () => {
    assert.equal(router.match('HEAD', '/v2/models/x').handler, 'meta');
  });
  const fails: [string, string, string][] = [
    ['GET', '/nope', 'FLT_ROUTE_NOT_FOUND'],
    ['DELETE', '/v2/models/x', 'FLT_METHOD_NOT_ALLOWED'],
    ['GET', '/v2/models/%E0%A4%A', 'FLT_INVALID_FIELD'],
  ];
  for (const [method, path, code] of fails) {
    it(`${method} ${path} -> ${code}`, () => {
      assert.throws(
        () => router.match(method, path),
        (e: unknown) => e instanceof FlotillaError && e.code === code,
      );
    });
  }
});
