/**
 * The context file: where a running `flotilla up` listens, so `status`, `scale` and `rollout` on the
 * same machine need no flags (as kubectl reads a kubeconfig). One file, `<FLOTILLA_HOME>/up.json`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/index.js';
import { formatIssues } from '../spec/format-issues.js';

/** What `flotilla up` announces about itself. */
export interface UpContext {
  /** The data plane, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Where `/_flotilla/…` answers (the same port today). */
  readonly adminUrl: string;
  readonly token?: string;
  readonly pid: number;
  /** The service file it runs, absolute. */
  readonly file: string;
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

/** `$FLOTILLA_HOME/up.json`, FLOTILLA_HOME defaulting to `~/.flotilla`. */
export function contextPath(env: Env = process.env): string {
  const home = env['FLOTILLA_HOME'];
  return join(home ? resolve(home) : join(homedir(), '.flotilla'), 'up.json');
}

/**
 * Writes the context atomically (temp file then rename: a reader never sees half a file) and
 * readable by the owner only, since it holds the admin token.
 */
export async function writeUpContext(ctx: UpContext, env: Env = process.env): Promise<void> {
  const path = contextPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(ctx, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The file's context whatever its pid; undefined when there is no file. */
async function readRaw(path: string): Promise<UpContext | undefined> {
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

/**
 * The running `flotilla up`, if any. A context left by one that died without cleaning up (killed,
 * crashed) counts as missing, so commands fall back to their defaults instead of a stale token.
 */
export async function readUpContext(env: Env = process.env): Promise<UpContext | undefined> {
  const ctx = await readRaw(contextPath(env));
  return ctx !== undefined && alive(ctx.pid) ? ctx : undefined;
}

/**
 * Removes the context when it still names `pid`: an `up` that exits must not delete the file a
 * newer `up` wrote over its own. A corrupt file is left alone (not ours to judge at shutdown).
 * Resolves whether it removed the file.
 */
export async function removeUpContext(pid: number, env: Env = process.env): Promise<boolean> {
  const path = contextPath(env);
  let ctx: UpContext | undefined;
  try {
    ctx = await readRaw(path);
  } catch {
    return false;
  }
  if (ctx?.pid !== pid) return false;
  await rm(path, { force: true });
  return true;
}
