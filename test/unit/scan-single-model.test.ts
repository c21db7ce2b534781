import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { scanSingleModel, versionDirOf } from '../../src/server/index.js';
import { EXAMPLE_MODELS } from '../helpers/paths.js';

const made: string[] = [];
function folder(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-scan-single-'));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('scanSingleModel: one model folder, KServe-style or versioned', () => {
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it('a flat folder is version 1, read from the folder itself', async () => {
    const dir = folder({ 'model.onnx': 'x' });
    const m = (await scanSingleModel(dir, 'mnist')).get('mnist')!;
    assert.deepEqual(
      [m.flat, m.versions.map((v) => v.version), m.config?.modelFile],
      [true, [1], 'model.onnx'],
    );
    assert.equal(versionDirOf(m, 1), dir);
  });

  it('the only .onnx file stands in for a missing model.onnx', async () => {
    const m = (await scanSingleModel(folder({ 'mnist.onnx': 'x', 'README.md': 'y' }), 'm')).get('m')!;
    assert.equal(m.config?.modelFile, 'mnist.onnx');
  });

  it('two .onnx files and no model.onnx: the default stays, and the load will name it', async () => {
    const m = (await scanSingleModel(folder({ 'a.onnx': 'x', 'b.onnx': 'y' }), 'm')).get('m')!;
    assert.equal(m.config?.modelFile, 'model.onnx');
  });

  it("a config.yaml's model_file is kept even when absent", async () => {
    const dir = folder({ 'config.yaml': 'model_file: net.onnx\n', 'other.onnx': 'x' });
    assert.equal((await scanSingleModel(dir, 'm')).get('m')!.config?.modelFile, 'net.onnx');
  });

  it('an invalid config.yaml is reported, not thrown', async () => {
    const m = (await scanSingleModel(folder({ 'config.yaml': 'max_batch_size: -1\n' }), 'm')).get('m')!;
    assert.equal(m.config, undefined);
    assert.match(m.configError ?? '', /max_batch_size/);
  });

  it('numbered folders are versions, as in a repository', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-scan-single-'));
    made.push(dir);
    cpSync(join(EXAMPLE_MODELS, 'mnist'), dir, { recursive: true });
    const m = (await scanSingleModel(dir, 'digits')).get('digits')!;
    assert.deepEqual(
      [m.name, m.dir, m.flat, m.versions.map((v) => v.version), m.config?.versionPolicy],
      ['digits', dir, false, [1, 2], { kind: 'all' }],
    );
    assert.equal(versionDirOf(m, 2), join(dir, '2'));
  });

  it('a folder that does not exist holds no model', async () => {
    assert.equal((await scanSingleModel(join(tmpdir(), 'flotilla-no-such-dir-x'), 'm')).size, 0);
  });
});
