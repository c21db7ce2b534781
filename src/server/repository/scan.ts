import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '../../core/index.js';
import { type ModelConfig, parseModelConfigYaml } from '../../spec/index.js';
import { isValidModelName, versionFromText } from './model-name.js';
import type { DiskVersion } from './version-policy.js';

/** One model folder as a scan found it. */
export interface ScannedModel {
  readonly name: string;
  readonly dir: string;
  /** Undefined when the config is invalid; `configError` says why. */
  readonly config: ModelConfig | undefined;
  readonly configError: string | undefined;
  /** The config file's size and mtime (`#size:mtimeMs`); '' without a file: changes when it is edited. */
  readonly configStamp: string;
  /** Numbered version folders, ascending. */
  readonly versions: readonly DiskVersion[];
}

export const CONFIG_FILE = 'config.yaml';

async function fingerprint(dir: string, extra = ''): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  const parts = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const s = await stat(join(dir, e.name));
        return `${e.name}:${s.size}:${s.mtimeMs}`;
      }),
  );
  return parts.sort().join('|') + extra;
}

/** Config files to read instead of `<model>/config.yaml`, by model name (`serve --model-config`). */
export type ConfigOverrides = ReadonlyMap<string, string>;

/** Reads one model folder; undefined when it is not a model (no config and no version folder). */
export async function scanModel(
  root: string,
  name: string,
  overrides?: ConfigOverrides,
): Promise<ScannedModel | undefined> {
  const dir = join(root, name);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const override = overrides?.get(name);
  const configFile = override ?? join(dir, CONFIG_FILE);
  let config: ModelConfig | undefined;
  let configError: string | undefined;
  let configStamp = '';
  const hasConfig = override !== undefined || entries.some((e) => e.isFile() && e.name === CONFIG_FILE);
  try {
    if (hasConfig) {
      const s = await stat(configFile);
      configStamp = `#${s.size}:${s.mtimeMs}`;
      config = parseModelConfigYaml(await readFile(configFile, 'utf8'), configFile);
    } else {
      config = parseModelConfigYaml('', configFile);
    }
  } catch (err) {
    configError = err instanceof FlotillaError ? err.message : String(err);
  }
  const versionDirs = entries.filter((e) => e.isDirectory() && versionFromText(e.name) !== undefined);
  if (!hasConfig && versionDirs.length === 0) return undefined;
  const versions = await Promise.all(
    versionDirs.map(async (e) => ({
      version: Number(e.name),
      fingerprint: await fingerprint(join(dir, e.name), configStamp).catch(() => 'unreadable'),
    })),
  );
  versions.sort((a, b) => a.version - b.version);
  return { name, dir, config, configError, configStamp, versions };
}

/** Scans a repository: every folder that holds a model, optionally only the named ones. */
export async function scanRepository(
  root: string,
  only?: ReadonlySet<string>,
  overrides?: ConfigOverrides,
): Promise<Map<string, ScannedModel>> {
  const entries = await readdir(root, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory() && isValidModelName(e.name) && (only === undefined || only.has(e.name)))
    .map((e) => e.name);
  const models = await Promise.all(names.map((n) => scanModel(root, n, overrides)));
  const out = new Map<string, ScannedModel>();
  for (const m of models) if (m) out.set(m.name, m);
  return out;
}
