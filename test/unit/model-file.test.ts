import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { resolveModelFile } from '../../src/server/index.js';
import { ROOT } from '../helpers/paths.js';

describe('resolveModelFile', () => {
  it('resolves relative paths against the version folder and keeps absolute ones', () => {
    assert.equal(resolveModelFile('model.onnx', '/repo/m/1'), '/repo/m/1/model.onnx');
    assert.equal(resolveModelFile('../shared.onnx', '/repo/m/1'), '/repo/m/shared.onnx');
    assert.equal(resolveModelFile('/abs/x.onnx', '/repo/m/1'), '/abs/x.onnx');
  });
  it('finds files inside an installed package, scoped or not', () => {
    const onnx = resolveModelFile('npm:onnxruntime-node/package.json', `${ROOT}examples/models/mnist/1`);
    assert.ok(onnx && existsSync(onnx), String(onnx));
    const scoped = resolveModelFile('npm:@biomejs/biome/package.json', `${ROOT}examples/models/mnist/1`);
    assert.ok(scoped && existsSync(scoped), String(scoped));
  });
  it('returns undefined for a package that is not installed', () => {
    assert.equal(resolveModelFile('npm:no-such-package-xyz/a.onnx', ROOT), undefined);
  });
});
