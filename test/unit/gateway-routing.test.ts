import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  findModelSegment,
  hostname,
  type RoutableService,
  RoutingTable,
  rewriteModel,
} from '../../src/gateway/index.js';

const svc = (name: string, hosts: string[] = [], path?: string): RoutableService => ({
  name,
  hosts,
  ...(path ? { path } : {}),
});

describe('routing table', () => {
  const table = new RoutingTable([
    svc('mnist', ['mnist.example.com']),
    svc('mnist-api', ['mnist.example.com'], '/api'),
    svc('ocr', [], '/ocr'),
    svc('ocr-v2', [], '/ocr/v2'),
    svc('image'),
    svc('digits'),
  ]);
  const cases: [
    string,
    string | undefined,
    string,
    string | undefined,
    string | undefined,
    string | undefined,
  ][] = [
    // what, host, path -> service, by, path sent on
    ['a Host match takes every path', 'mnist.example.com', '/anything', 'mnist', 'host', '/anything'],
    [
      'Host is case-insensitive and the port is ignored',
      'MNIST.example.com:8080',
      '/v2/models/x/infer',
      'mnist',
      'host',
      '/v2/models/x/infer',
    ],
    [
      "a host's longer path prefix wins, and is removed",
      'mnist.example.com',
      '/api/v2/health/ready',
      'mnist-api',
      'host',
      '/v2/health/ready',
    ],
    [
      'a path prefix on any host',
      'other.example.com',
      '/ocr/v1/models/ocr:predict',
      'ocr',
      'path',
      '/v1/models/ocr:predict',
    ],
    ['the longest prefix wins', undefined, '/ocr/v2/x', 'ocr-v2', 'path', '/x'],
    ['a prefix matches whole segments only', undefined, '/ocrx/prediction', 'ocrx', undefined, undefined],
    ['the prefix alone is the root', undefined, '/ocr', 'ocr', 'path', '/'],
    [
      'OIP v2 model name',
      undefined,
      '/v2/models/image/versions/2/infer',
      'image',
      'model',
      '/v2/models/image/versions/2/infer',
    ],
    [
      'TF Serving model name',
      undefined,
      '/v1/models/digits:predict',
      'digits',
      'model',
      '/v1/models/digits:predict',
    ],
    ['Paddle service name', undefined, '/image/prediction', 'image', 'model', '/image/prediction'],
    ['an unknown model', undefined, '/v2/models/nope/infer', undefined, undefined, undefined],
    ['a path naming nothing', undefined, '/v2/health/ready', undefined, undefined, undefined],
  ];
  for (const [what, host, path, service, by, sent] of cases) {
    it(what, () => {
      const m = table.route(host, path);
      if (by === undefined) {
        assert.equal(m, undefined);
        return;
      }
      assert.equal(m?.service.name, service);
      assert.equal(m?.by, by);
      assert.equal(m?.path, sent);
    });
  }

  it('marks the model name for rewriting only when it is the service’s own name', () => {
    assert.deepEqual(table.route(undefined, '/v2/models/image/infer')?.model, {
      protocol: 'oip',
      name: 'image',
      start: 11,
      end: 16,
      hasVersion: false,
    });
    // Under a Host or prefix route the path may name another model: it passes untouched.
    assert.equal(table.route('mnist.example.com', '/v2/models/other/infer')?.model, undefined);
    assert.equal(table.route('mnist.example.com', '/v2/models/mnist/infer')?.model?.name, 'mnist');
  });

  it('lists names in file order', () => {
    assert.deepEqual(table.names(), ['mnist', 'mnist-api', 'ocr', 'ocr-v2', 'image', 'digits']);
  });

  it('reads host names', () => {
    assert.equal(hostname('A.b:80'), 'a.b');
    assert.equal(hostname('[::1]:8080'), '[::1]');
  });
});

describe('protocol paths', () => {
  const rewrite = (path: string, name: string, version?: string): string => {
    const seg = findModelSegment(path);
    assert.ok(seg, path);
    return rewriteModel(path, seg, name, version);
  };
  const cases: [string, string, string | undefined, string][] = [
    ['/v2/models/svc/infer', 'mnist', undefined, '/v2/models/mnist/infer'],
    ['/v2/models/svc/infer', 'mnist', '2', '/v2/models/mnist/versions/2/infer'],
    ['/v2/models/svc/versions/1/infer', 'mnist', '2', '/v2/models/mnist/versions/1/infer'],
    ['/v2/models/svc', 'mnist', '2', '/v2/models/mnist/versions/2'],
    ['/v2/models/svc/ready', 'mnist', '2', '/v2/models/mnist/versions/2/ready'],
    ['/v1/models/svc:predict', 'mnist', '2', '/v1/models/mnist/versions/2:predict'],
    ['/v1/models/svc/versions/3:predict', 'mnist', '2', '/v1/models/mnist/versions/3:predict'],
    ['/v1/models/svc/metadata', 'mnist', undefined, '/v1/models/mnist/metadata'],
    ['/svc/prediction', 'image', '2', '/image/prediction'],
  ];
  for (const [path, name, version, want] of cases) {
    it(`${path} -> ${want}`, () => assert.equal(rewrite(path, name, version), want));
  }
  it('finds no model in other paths', () => {
    for (const p of ['/v2/models/', '/v2/health/ready', '/a/b/prediction', '/prediction', '/v3/models/x']) {
      assert.equal(findModelSegment(p), undefined, p);
    }
  });
});
