/**
 * What `flotilla serve` was asked to load, checked against the disk before anything loads: a
 * repository folder one level too high or too deep, an empty one, `--models nosuch` or
 * `--models mnist:7` stop the server at once with one line saying what was asked and what exists,
 * as TF Serving and Triton refuse to start on a model they cannot find. (A model that exists but
 * fails to load is not this: the server runs, not ready, and says why.)
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/index.js';
import {
  CONFIG_FILE,
  type ConfigOverrides,
  parseModelSelection,
  type ScannedModel,
  scanRepository,
  versionFromText,
} from '../server/index.js';

const FLAG = '--model-repository';

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const isVersionName = (name: string): boolean => versionFromText(name) !== undefined;

/** A folder that holds a model: a config.yaml or a numbered version folder. */
function looksLikeModel(dir: string): boolean {
  if (existsSync(join(dir, CONFIG_FILE))) return true;
  try {
    return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && isVersionName(e.name));
  } catch {
    return false;
  }
}

/** Sub-folders (one or two levels down) that hold models, with their model names. */
async function repositoriesBelow(root: string): Promise<{ dir: string; models: string[] }[]> {
  const found: { dir: string; models: string[] }[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
        .map((e) => e.name)
        .sort();
    } catch {
      return;
    }
    for (const name of names) {
      const sub = join(dir, name);
      const models = [...(await scanRepository(sub).catch(() => new Map())).keys()];
      if (models.length > 0) found.push({ dir: sub, models: models.sort() });
      else if (depth < 2) await visit(sub, depth + 1);
    }
  };
  await visit(root, 1);
  return found;
}

const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '));

/** Why a repository folder that holds no model is the wrong folder, and which one to use. */
async function noModelIn(root: string): Promise<UsageError> {
  if (isVersionName(basename(root)) && looksLikeModel(dirname(root))) {
    const repo = dirname(dirname(root));
    return new UsageError(
      FLAG,
      `${root} is version ${basename(root)} of model "${basename(dirname(root))}", not a repository; use ${FLAG} ${repo}`,
    );
  }
  if (looksLikeModel(root)) {
    return new UsageError(
      FLAG,
      `${root} is the model folder of "${basename(root)}", not a repository; use ${FLAG} ${dirname(root)}`,
    );
  }
  const below = await repositoriesBelow(root);
  if (below.length > 0) {
    const where = below.map((b) => `${b.dir} (${list(b.models)})`).join('; ');
    return new UsageError(
      FLAG,
      `no model in ${root}, but models are in folders below it: ${where}; use ${FLAG} ${below[0]!.dir}`,
    );
  }
  return new UsageError(
    FLAG,
    `no model in ${root}: a repository holds one folder per model, <model>/${CONFIG_FILE} and numbered version folders such as <model>/1/model.onnx (see docs/models.md)`,
  );
}

/** `--models` entries the repository cannot satisfy: a model it lacks, a version it lacks. */
function missingSelection(
  root: string,
  entries: readonly string[],
  scanned: ReadonlyMap<string, ScannedModel>,
): UsageError | undefined {
  const { pins } = parseModelSelection(entries);
  const have = [...scanned.keys()].sort();
  for (const entry of entries) {
    const name = entry.split(':')[0]!;
    const model = scanned.get(name);
    if (!model) {
      return new UsageError(
        '--models',
        `--models ${entry}: no model "${name}" in ${root} (models: ${list(have)})`,
      );
    }
    const pin = pins.get(name);
    if (pin !== undefined && !model.versions.some((v) => v.version === pin)) {
      const versions = model.versions.map((v) => String(v.version));
      return new UsageError(
        '--models',
        `--models ${entry}: model "${name}" has no version ${pin} in ${model.dir} (versions: ${list(versions)})`,
      );
    }
  }
  return undefined;
}

/**
 * Resolves the repository folder and checks that it holds models and every `--models` entry;
 * throws a UsageError (exit 2, one line) otherwise. Returns the absolute repository path.
 */
export async function checkServeRequest(
  dir: string,
  models: readonly string[] | undefined,
  overrides?: ConfigOverrides,
): Promise<string> {
  const root = resolve(dir);
  if (!isDir(root)) {
    const why = existsSync(root) ? 'is not a directory' : 'does not exist';
    throw new UsageError(FLAG, `${FLAG} ${root} ${why}`);
  }
  const scanned = await scanRepository(root, undefined, overrides);
  if (scanned.size === 0) throw await noModelIn(root);
  const missing = models ? missingSelection(root, models, scanned) : undefined;
  if (missing) throw missing;
  return root;
}
