import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { TallyHistogram } from '../../src/server/metrics/tally-histogram.js';

describe('TallyHistogram', () => {
  it('renders cumulative buckets, +Inf, sum and count per label set through the registry', async () => {
    const registry = new Registry();
    const h = new TallyHistogram('x_seconds', 'How long x took.', [0.1, 1], registry);
    const a = h.labels({ model: 'm', version: '1' });
    for (const v of [0.05, 0.1, 0.5, 3]) a.observe(v);
    h.labels({ model: 'm', version: '2' });
    const text = await registry.metrics();
    assert.equal(
      text.trim(),
      [
        '# HELP x_seconds How long x took.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{le="0.1",model="m",version="1"} 2',
        'x_seconds_bucket{le="1",model="m",version="1"} 3',
        'x_seconds_bucket{le="+Inf",model="m",version="1"} 4',
        'x_seconds_sum{model="m",version="1"} 3.65',
        'x_seconds_count{model="m",version="1"} 4',
        'x_seconds_bucket{le="0.1",model="m",version="2"} 0',
        'x_seconds_bucket{le="1",model="m",version="2"} 0',
        'x_seconds_bucket{le="+Inf",model="m",version="2"} 0',
        'x_seconds_sum{model="m",version="2"} 0',
        'x_seconds_count{model="m",version="2"} 0',
      ].join('\n'),
    );
    assert.equal(h.labels({ model: 'm', version: '1' }), a, 'the same label set gets the same tally');
  });
});
