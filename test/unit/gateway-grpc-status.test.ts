import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CATALOGUE, GRPC_STATUS } from '../../src/core/index.js';
import {
  formatGrpcTimeout,
  grpcStatusOf,
  isServerFault,
  outcomeStatus,
  parseGrpcTimeout,
} from '../../src/gateway/grpc/grpc-status.js';

describe('gRPC status accounting (issue 18: a failed gRPC call counts as HTTP 5xx does)', () => {
  it('server faults are UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE and DATA_LOSS', () => {
    const faults = Array.from({ length: 17 }, (_, s) => s).filter(isServerFault);
    assert.deepEqual(faults, [2, 4, 13, 14, 15]);
  });

  it('every Flotilla error answered 5xx over HTTP is a fault over gRPC (one rule for both)', () => {
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
      if (e.http >= 500) assert.ok(isServerFault(GRPC_STATUS[e.grpc]), `${code}: ${e.grpc}`);
    }
  });

  it('reports UNAVAILABLE as 503 (retried, as HTTP 503), DEADLINE_EXCEEDED as 504', () => {
    assert.equal(outcomeStatus(0), 200);
    assert.equal(outcomeStatus(GRPC_STATUS.UNAVAILABLE), 503);
    assert.equal(outcomeStatus(GRPC_STATUS.DEADLINE_EXCEEDED), 504);
    assert.equal(outcomeStatus(GRPC_STATUS.INTERNAL), 500);
    assert.equal(outcomeStatus(GRPC_STATUS.NOT_FOUND), 400);
    assert.equal(outcomeStatus(GRPC_STATUS.UNIMPLEMENTED), 400);
  });

  it('a missing or malformed grpc-status is UNKNOWN (a fault)', () => {
    assert.equal(grpcStatusOf('0'), 0);
    assert.equal(grpcStatusOf(['14']), 14);
    assert.equal(grpcStatusOf(undefined), 2);
    assert.equal(grpcStatusOf('x'), 2);
  });

  it('parses grpc-timeout in every unit; ignores malformed values', () => {
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('2M'), 120_000);
    assert.equal(parseGrpcTimeout('3S'), 3000);
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('1500u'), 1.5);
    assert.equal(parseGrpcTimeout('2000000n'), 2);
    for (const bad of [undefined, '', '123456789m', '10', '5s', '-1S', '1.5S'])
      assert.equal(parseGrpcTimeout(bad), undefined, String(bad));
    assert.equal(formatGrpcTimeout(0.2), '1m');
    assert.equal(formatGrpcTimeout(249.1), '250m');
  });
});
