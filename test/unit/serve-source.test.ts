import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelSource, type SourceFlags } from '../../src/cli/serve-source.js';

describe('modelSource: --model-repository, or --model-dir with --model-name', () => {
  const cases: readonly [string, SourceFlags, ReturnType<typeof modelSource>][] = [
    ['a repository', { modelRepository: 'models' }, { kind: 'repository', dir: 'models' }],
    [
      'a repository with --models',
      { modelRepository: 'models', models: ['mnist'] },
      { kind: 'repository', dir: 'models' },
    ],
    [
      'one model',
      { modelDir: '/mnt/models', modelName: 'mnist' },
      { kind: 'model', dir: '/mnt/models', name: 'mnist' },
    ],
    [
      'both',
      { modelRepository: 'models', modelDir: '/mnt/models', modelName: 'm' },
      { usage: '--model-repository and --model-dir exclude each other: give one' },
    ],
    ['neither', {}, { usage: 'give --model-repository DIR, or --model-dir DIR with --model-name NAME' }],
    [
      'a name without a dir',
      { modelName: 'm' },
      { usage: 'give --model-repository DIR, or --model-dir DIR with --model-name NAME' },
    ],
    [
      'a name with a repository',
      { modelRepository: 'models', modelName: 'm' },
      { usage: '--model-name goes with --model-dir, not --model-repository' },
    ],
    [
      'a dir without a name',
      { modelDir: '/mnt/models' },
      { usage: '--model-dir needs --model-name NAME (the name clients call)' },
    ],
    [
      'a name that climbs out',
      { modelDir: '/mnt/models', modelName: '../x' },
      {
        usage: `--model-name: "../x" is not a valid model name (letters, digits, '_', '.', '-'; no '..' or '/')`,
      },
    ],
    [
      '--models pinning the one model',
      { modelDir: '/mnt/models', modelName: 'm', models: ['m:2'] },
      { kind: 'model', dir: '/mnt/models', name: 'm' },
    ],
    [
      '--models naming another model',
      { modelDir: '/mnt/models', modelName: 'm', models: ['x'] },
      { usage: '--models x: with --model-dir, --models only pins a version of --model-name m (m:VERSION)' },
    ],
  ];
  for (const [name, flags, want] of cases) {
    it(name, () => assert.deepEqual(modelSource(flags), want));
  }
});
