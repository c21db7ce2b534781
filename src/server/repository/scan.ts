import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
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
  /**
   * The model file sits in `dir` itself, not in numbered folders (KServe's storage initializer
   * puts a model at /mnt/models as it is): it is served as version 1, from `dir`.
   */
  readonly flat: boolean;
}

/** The folder a version's files are in: `dir/<version>`, or `dir` itself for a flat model. */
export function versionDirOf(model: ScannedModel, version: number): string {
  return model.flat ? model.dir : join(model.dir, String(version));
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
  return { name, dir, config, configError, configStamp, versions, flat: false };
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

/**
 * `serve --model-dir DIR --model-name NAME`: one model whose own folder is `dir`. With numbered
 * version folders it is read as a repository's model folder; without, the folder holds the model
 * file itself and is served as version 1. Then, when config.yaml names no `model_file` and the
 * default (`model.onnx`) is absent, the folder's only file of that extension is the model: a
 * storage URI naming one file (`gs://bucket/mnist.onnx`) lands as `/mnt/models/mnist.onnx`.
 */
export async function scanSingleModel(
  dir: string,
  name: string,
  overrides?: ConfigOverrides,
): Promise<Map<string, ScannedModel>> {
  const out = new Map<string, ScannedModel>();
  const override = overrides?.get(name);
  // scanModel reads `<root>/<name>`: the folder itself is `<dir>/.`.
  const scanned = await scanModel(dir, '.', override === undefined ? undefined : new Map([['.', override]]));
  if (scanned && scanned.versions.length > 0) {
    out.set(name, { ...scanned, name, dir });
    return out;
  }
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  const configFile = override ?? join(dir, CONFIG_FILE);
  const hasConfig = override !== undefined || files.includes(CONFIG_FILE);
  let config: ModelConfig | undefined;
  let configError: string | undefined;
  let configText = '';
  try {
    configText = hasConfig ? await readFile(configFile, 'utf8') : '';
    config = parseModelConfigYaml(configText, configFile);
    const named = (parseYaml(configText) as { model_file?: unknown } | null)?.model_file !== undefined;
    if (!named && !files.includes(config.modelFile)) {
      const ext = extname(config.modelFile);
      const candidates = files.filter((f) => extname(f) === ext);
      if (candidates.length === 1) config = { ...config, modelFile: candidates[0]! };
    }
  } catch (err) {
    configError = err instanceof FlotillaError ? err.message : String(err);
  }
  // The config's stamp: a changed config.yaml (or override) is a changed model, and is reported once.
  const configStamp = hasConfig
    ? await stat(configFile)
        .then((s) => `#${s.size}:${s.mtimeMs}`)
        .catch(() => '')
    : '';
  const version = { version: 1, fingerprint: await fingerprint(dir, configStamp).catch(() => 'unreadable') };
  out.set(name, { name, dir, config, configError, configStamp, versions: [version], flat: true });
  return out;
}
