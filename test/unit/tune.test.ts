import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bestMeasurement,
  candidateConfig,
  type TuneCandidate,
  type TuneMeasurement,
  tuneCandidates,
} from '../../src/tune/index.js';

describe('tuneCandidates', () => {
  it('never oversubscribes the cores and tries batching only for batching models', () => {
    const two = tuneCandidates(2, 0, 'onnx');
    assert.deepEqual(
      two.map((c) => [c.kind, c.instances, c.threads]),
      [
        ['inline', 1, 1],
        ['worker', 1, 1],
        ['worker', 1, 2],
        ['worker', 2, 1],
      ],
    );
    assert.ok(two.every((c) => c.batching === false));
    assert.ok(
      tuneCandidates(2, 0, 'js').every((c) => c.kind === 'worker'),
      'js modules run in workers only',
    );
    const batching = tuneCandidates(4, 8, 'onnx');
    assert.ok(batching.every((c) => c.instances * c.threads <= 4));
    assert.deepEqual([...new Set(batching.map((c) => c.batching))], [false, 0, 500]);
  });

  it('writes a candidate as config fields', () => {
    assert.deepEqual(candidateConfig({ kind: 'worker', instances: 2, threads: 1, batching: 500 }), {
      instance_kind: 'worker',
      instances: 2,
      threads: 1,
      dynamic_batching: { max_queue_delay_us: 500 },
    });
    assert.equal(
      candidateConfig({ kind: 'inline', instances: 1, threads: 1, batching: false })['dynamic_batching'],
      false,
    );
  });
});

describe('bestMeasurement', () => {
  const c = (instances: number, threads = 1): TuneCandidate => ({
    kind: 'worker',
    instances,
    threads,
    batching: false,
  });
  const m = (candidate: TuneCandidate, throughput: number, p99Ms: number, errors = 0): TuneMeasurement => ({
    candidate,
    concurrency: 8,
    throughput,
    p50Ms: p99Ms / 2,
    p99Ms,
    errors,
  });

  it('takes the highest throughput within the latency threshold', () => {
    const fast = m(c(2), 900, 30);
    assert.equal(bestMeasurement([m(c(1), 500, 5), fast, m(c(2), 1000, 80)], 50), fast);
  });
  it('prefers fewer cores when throughput is within 2 %', () => {
    const cheap = m(c(1), 990, 5);
    assert.equal(bestMeasurement([m(c(2), 1000, 5), cheap]), cheap);
  });
  it('ignores measurements with errors, and reports when nothing qualifies', () => {
    assert.equal(bestMeasurement([m(c(1), 5000, 1, 3)]), undefined);
    assert.equal(bestMeasurement([m(c(1), 100, 90)], 50), undefined);
  });
});
