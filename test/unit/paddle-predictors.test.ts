import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isPrototxtFile, parsePredictorsPrototxt } from '../../src/spec/index.js';
import { ROOT } from '../helpers/paths.js';

const FIXTURE = `${ROOT}test/fixtures/services/predictors.prototxt`;

const parse = (text: string) => parsePredictorsPrototxt(text, 'predictors.prototxt');
const fails = (text: string, message: RegExp) =>
  assert.throws(
    () => parse(text),
    (err: Error) => {
      assert.match(err.message, /^predictors\.prototxt: /);
      assert.match(err.message, message);
      return true;
    },
  );

describe("Paddle Serving's predictors.prototxt as a service file", () => {
  it('reads Paddle’s layout: a predictor per service, variants with list:// clusters, variant_weight_list', () => {
    const file = parse(readFileSync(FIXTURE, 'utf8'));
    assert.equal(file.services.length, 1);
    const [mnist] = file.services;
    assert.equal(mnist!.name, 'mnist');
    assert.deepEqual(
      mnist!.variants.map((v) => [v.tag, v.weight, v.runs]),
      [
        [
          'var1',
          50,
          {
            kind: 'endpoints',
            endpoints: [
              { host: '127.0.0.1', port: 8010 },
              { host: '127.0.0.1', port: 8011 },
            ],
          },
        ],
        ['var2', 50, { kind: 'endpoints', endpoints: [{ host: '127.0.0.1', port: 8012 }] }],
      ],
    );
    // The rest is the service file's defaults, as for any service.
    assert.equal(mnist!.balancer, 'least_request');
    assert.deepEqual(mnist!.timeouts, { perTryMs: 30_000, totalMs: 60_000 });
  });

  it('falls back to default_variant_conf’s cluster, as Paddle’s client does', () => {
    const file = parse(
      'default_variant_conf { tag: "default" naming_conf { cluster: "list://127.0.0.1:9000" } }\n' +
        'predictors { name: "a" variants { tag: "v" } }',
    );
    assert.deepEqual(file.services[0]!.variants[0]!.runs, {
      kind: 'endpoints',
      endpoints: [{ host: '127.0.0.1', port: 9000 }],
    });
  });

  it('takes Paddle’s defaults: a predictor without a name is general_model', () => {
    const file = parse(
      'predictors { variants { tag: "v" naming_conf { cluster: "list://127.0.0.1:9000" } } }',
    );
    assert.equal(file.services[0]!.name, 'general_model');
  });

  it('names the prototxt field in every error', () => {
    fails('predictors { nme: "a" }', /not valid protobuf text format .*unknown field "nme"/);
    fails('predictors {', /not valid protobuf text format/);
    fails('', /no predictors \{ … \} block/);
    fails(
      'predictors { name: "a" variants { tag: "x" } }',
      /predictors\[0\] \(a\): variants\[0\]\.naming_conf\.cluster: no cluster here nor in default_variant_conf/,
    );
    fails(
      'predictors { name: "a" endpoint_router: "Other" variants { tag: "x" naming_conf { cluster: "list://a:1" } } }',
      /endpoint_router: "Other" is not Paddle's WeightedRandomRender/,
    );
    fails(
      'predictors { name: "a" variants { tag: "x" naming_conf { cluster: "list://a:1" } } variants { tag: "y" naming_conf { cluster: "list://a:2" } } }',
      /variant_weight_list: 2 variants need one weight each, e.g. "50 \| 50"/,
    );
    fails(
      'predictors { name: "a" weighted_random_render_conf { variant_weight_list: "50|x" } variants { tag: "x" naming_conf { cluster: "list://a:1" } } variants { tag: "y" naming_conf { cluster: "list://a:2" } } }',
      /predictor a: weighted_random_render_conf\.variant_weight_list: "x" is not a non-negative integer weight/,
    );
    fails(
      'predictors { name: "a" variants { tag: "x" naming_conf { cluster: "list://nope" } } }',
      /predictor a: variants\[0\]\.naming_conf\.cluster: "nope" is not host:port/,
    );
    fails(
      'predictors { name: "a" variants { tag: "x" naming_conf { cluster: "list://a:1" } } }\npredictors { name: "a" variants { tag: "x" naming_conf { cluster: "list://a:1" } } }',
      /predictors\[1\] \(a\): name: a is used by an earlier predictor too/,
    );
  });

  it('is chosen by the file’s extension', () => {
    assert.deepEqual(
      ['predictors.prototxt', 'x.PBTXT', 'a.txtpb', 'b.textproto', 'services.yaml', 'prototxt'].map(
        isPrototxtFile,
      ),
      [true, true, true, true, false, false],
    );
  });
});
