/**
 * Context files: where each running `flotilla up` listens, so `status`, `scale` and `rollout` on
 * the same machine need no flags (as kubectl reads a kubeconfig). One file per running `up`,
 * `<FLOTILLA_HOME>/up/<name>.json`, removed when it exits: two `up` side by side each keep their
 * own (one file for all let the second overwrite the first, whose token was then lost, and the
 * commands silently acted on the other fleet). A file whose pid is gone is stale: ignored, and
 * removed by the next reader.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/index.js';
import { formatIssues } from '../spec/format-issues.js';

/** What `flotilla up` announces about itself. */
export interface UpContext {
  /** The data plane, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Where `/_flotilla/…` answers (the same port unless `--admin-port`). */
  readonly adminUrl: string;
  readonly token?: string;
  readonly pid: number;
  /** The service file it runs, absolute. */
  readonly file: string;
}

/** A context as read back: with the name `--context` selects it by. */
export interface NamedUpContext extends UpContext {
  readonly name: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const httpUrl = z.string().refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), {
  message: 'expected an http(s) URL',
});

const contextSchema = z.object({
  url: httpUrl,
  adminUrl: httpUrl,
  token: z.string().exactOptional(),
  pid: z.number().int().positive(),
  file: z.string(),
});

/** `$FLOTILLA_HOME/up/`, FLOTILLA_HOME defaulting to `~/.flotilla`: one file per running `up`. */
export function contextDir(env: Env = process.env): string {
  const home = env['FLOTILLA_HOME'];
  return join(home ? resolve(home) : join(homedir(), '.flotilla'), 'up');
}

/**
 * A context's name: the service file's base name (`flotilla` for examples/flotilla.yaml), with
 * the pid appended when a running `up` already holds that name.
 */
export function contextName(file: string, pid: number, taken: ReadonlySet<string>): string {
  const base =
    basename(file, extname(file))
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .replace(/^[.-]+/, '') || 'up';
  return taken.has(base) ? `${base}-${pid}` : base;
}

/** The context file of `name`. */
export function contextPath(name: string, env: Env = process.env): string {
  return join(contextDir(env), `${name}.json`);
}

/**
 * Writes this `up`'s context atomically (temp file then rename: a reader never sees half a file)
 * and readable by the owner only, since it holds the admin token. Resolves with its name.
 */
export async function writeUpContext(ctx: UpContext, env: Env = process.env): Promise<string> {
  const dir = contextDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const others = (await listUpContexts(env)).filter((c) => c.pid !== ctx.pid);
  const name = contextName(ctx.file, ctx.pid, new Set(others.map((c) => c.name)));
  const path = contextPath(name, env);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(ctx, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return name;
}

/** One file's context whatever its pid; undefined when there is no file. */
async function readContextFile(path: string): Promise<UpContext | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(path, `cannot read the flotilla up context: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw corrupt(path, (err as Error).message, err);
  }
  const parsed = contextSchema.safeParse(json);
  if (!parsed.success) throw corrupt(path, formatIssues(parsed.error, json), parsed.error);
  return parsed.data;
}

function corrupt(path: string, why: string, cause: unknown): ConfigError {
  return new ConfigError(path, `not a valid flotilla up context (${why}); delete it or restart flotilla up`, {
    cause,
  });
}

/** False only when no such process exists: EPERM means it lives under another user. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function contextNames(env: Env): Promise<string[]> {
  try {
    return (await readdir(contextDir(env)))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Every running `flotilla up`, by name. A context left by one that died without cleaning up
 * (killed, crashed) is removed, so commands never use a stale token; a corrupt file throws a
 * ConfigError naming it.
 */
export async function listUpContexts(env: Env = process.env): Promise<NamedUpContext[]> {
  const out: NamedUpContext[] = [];
  for (const name of await contextNames(env)) {
    const path = contextPath(name, env);
    const ctx = await readContextFile(path);
    if (ctx === undefined) continue;
    if (alive(ctx.pid)) out.push({ name, ...ctx });
    else await rm(path, { force: true });
  }
  return out;
}

/**
 * Removes the contexts that name `pid`: an `up` that exits must not delete another's. A corrupt
 * file is left alone (not ours to judge at shutdown). Resolves whether it removed one.
 */
export async function removeUpContext(pid: number, env: Env = process.env): Promise<boolean> {
  let removed = false;
  for (const name of await contextNames(env).catch(() => [])) {
    const path = contextPath(name, env);
    const ctx = await readContextFile(path).catch(() => undefined);
    if (ctx?.pid !== pid) continue;
    await rm(path, { force: true });
    removed = true;
  }
  return removed;
}
