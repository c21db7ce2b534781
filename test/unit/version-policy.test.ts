import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CurrentVersion, type DiskVersion, planVersions } from '../../src/server/index.js';
import type { VersionPolicy } from '../../src/spec/index.js';

const disk = (...vs: number[]): DiskVersion[] =>
  vs.map((version) => ({ version, fingerprint: `f${version}` }));
const held = (
  entries: Record<number, CurrentVersion['state']>,
  fp: (v: number) => string = (v) => `f${v}`,
): CurrentVersion[] =>
  Object.entries(entries).map(([v, state]) => ({ version: Number(v), state, fingerprint: fp(Number(v)) }));

const latest1: VersionPolicy = { kind: 'latest', count: 1 };
const all: VersionPolicy = { kind: 'all' };

const cases: {
  name: string;
  policy: VersionPolicy;
  onDisk: DiskVersion[];
  current: CurrentVersion[];
  load: number[];
  unload: number[];
}[] = [
  {
    name: 'empty start loads the newest',
    policy: latest1,
    onDisk: disk(1, 2),
    current: [],
    load: [2],
    unload: [],
  },
  {
    name: 'all loads every version',
    policy: all,
    onDisk: disk(1, 2, 3),
    current: [],
    load: [1, 2, 3],
    unload: [],
  },
  {
    name: 'latest 2',
    policy: { kind: 'latest', count: 2 },
    onDisk: disk(1, 2, 3),
    current: [],
    load: [2, 3],
    unload: [],
  },
  {
    name: 'specific ignores versions not on disk',
    policy: { kind: 'specific', versions: [1, 7] },
    onDisk: disk(1, 2),
    current: [],
    load: [1],
    unload: [],
  },
  {
    name: 'steady state does nothing',
    policy: latest1,
    onDisk: disk(1, 2),
    current: held({ 2: 'ready' }),
    load: [],
    unload: [],
  },
  {
    name: 'new version loads before the old one goes',
    policy: latest1,
    onDisk: disk(2, 3),
    current: held({ 2: 'ready' }),
    load: [3],
    unload: [],
  },
  {
    name: 'old version stays while the new one loads',
    policy: latest1,
    onDisk: disk(2, 3),
    current: held({ 2: 'ready', 3: 'loading' }),
    load: [],
    unload: [],
  },
  {
    name: 'old version goes once the new one is ready',
    policy: latest1,
    onDisk: disk(2, 3),
    current: held({ 2: 'ready', 3: 'ready' }),
    load: [],
    unload: [2],
  },
  {
    name: 'a failed new version leaves the old one serving',
    policy: latest1,
    onDisk: disk(2, 3),
    current: held({ 2: 'ready', 3: 'failed' }),
    load: [],
    unload: [],
  },
  {
    name: 'a failed version is retried when its files change',
    policy: latest1,
    onDisk: disk(2, 3),
    current: held({ 2: 'ready', 3: 'failed' }, (v) => (v === 3 ? 'old' : `f${v}`)),
    load: [3],
    unload: [],
  },
  {
    name: 'a removed version is unloaded once nothing is loading',
    policy: all,
    onDisk: disk(2, 3),
    current: held({ 1: 'ready', 2: 'ready', 3: 'ready' }),
    load: [],
    unload: [1],
  },
  {
    name: 'a removed version waits while its replacement loads',
    policy: all,
    onDisk: disk(2, 3),
    current: held({ 1: 'ready', 2: 'ready', 3: 'loading' }),
    load: [],
    unload: [],
  },
  {
    name: 'a removed version goes even when nothing else is ready',
    policy: latest1,
    onDisk: disk(),
    current: held({ 1: 'ready' }),
    load: [],
    unload: [1],
  },
  {
    name: 'a non-desired version on disk stays when no desired version is ready',
    policy: latest1,
    onDisk: disk(1, 2),
    current: held({ 1: 'ready', 2: 'failed' }),
    load: [],
    unload: [],
  },
  {
    name: 'failed versions no longer desired are dropped',
    policy: latest1,
    onDisk: disk(3),
    current: held({ 3: 'ready', 1: 'failed' }),
    load: [],
    unload: [1],
  },
  {
    name: 'unloading versions are left alone',
    policy: latest1,
    onDisk: disk(2),
    current: held({ 1: 'unloading', 2: 'ready' }),
    load: [],
    unload: [],
  },
];

describe('planVersions', () => {
  for (const c of cases) {
    it(c.name, () => {
      const plan = planVersions(c.policy, c.onDisk, c.current);
      assert.deepEqual({ load: plan.load, unload: plan.unload }, { load: c.load, unload: c.unload });
    });
  }
});
