/**
 * Every shell example of the docs runs as pasted: each ```sh or ```bash block of README.md and
 * docs/*.md (any page, including ones added later) runs in bash, and must exit 0.
 *
 * Conventions (also in docs/README.md):
 * - The blocks of a page run in order, in one temporary folder per page holding links to the
 *   checkout's `examples/`, `bin/`, `dist/`, `proto/`, `test/` and `node_modules/` (a later block may use what an earlier one wrote,
 *   e.g. certificates); what they write lands there and is removed. `FLOTILLA_HOME` is a folder of
 *   its own. A block runs under `set -eo pipefail`: a failing command or pipe fails it.
 * - `flotilla`, `npx flotilla` and `node bin/flotilla.js` run the checkout's CLI; `npm start` runs
 *   package.json's start script. Other `npm` commands do not run: a block about building, linting
 *   or testing the checkout itself starts with `# needs: checkout`.
 * - Ports are the documented ones: 8000 and 8001 (`flotilla serve`), 8080 (`flotilla up`,
 *   `flotilla gateway`). A block that starts a server (a command ending in `&`) owns it, and waits
 *   for it as a reader would (`until curl -sf …; do sleep 1; done`). A block that talks to
 *   localhost:8000 without starting a server gets the one the README starts, `flotilla serve
 *   --model-repository examples/models`, run by this test. When a block ends, everything it
 *   started is stopped (its process group).
 * - A block whose first line is `# needs: WHAT` (kubernetes, container: what this machine lacks;
 *   checkout: see above) is not run; its `flotilla` flags are checked against `--help`.
 * - Each block has BLOCK_TIMEOUT_MS; examples of load runs say so with short durations.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type FlotillaProcess, startCli, waitFor } from '../helpers/flotilla-process.js';
import { CLI, ROOT } from '../helpers/paths.js';

const BLOCK_TIMEOUT_MS = 120_000;
const DOCUMENTED_PORTS = [8000, 8001, 8080] as const;

/** One shell example: where it is, and its text. */
export interface DocBlock {
  readonly where: string;
  readonly text: string;
  /** From a first line `# needs: kubernetes`: not run here. */
  readonly needs: string | undefined;
}

/** The ```sh and ```bash blocks of a Markdown page, in order. */
export function shellBlocks(file: string, markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++;
    if (open[3] === 'sh' || open[3] === 'bash') {
      const text = lines
        .slice(start, end)
        .map((l) => l.slice(open[1]!.length))
        .join('\n');
      const needs = /^#\s*needs:\s*(\S+)/.exec(text.trimStart())?.[1];
      blocks.push({ where: `${file}:${start}`, text, needs });
    }
    i = end;
  }
  return blocks;
}

const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

const BLOCKS = PAGES.flatMap((page) => shellBlocks(page, readFileSync(join(ROOT, page), 'utf8')));

/**
 * A block starts its own model server on 8000/8001 when a `flotilla serve` line without
 * `--http-port` ends in `&`: the test's server must make way for it.
 */
const startsServe = (text: string): boolean =>
  text
    .split('\n')
    .some((l) => /flotilla(\.js)?\s+serve\b/.test(l) && /&\s*$/.test(l) && !/--http-port/.test(l));
const usesServe = (text: string): boolean => /(localhost|127\.0\.0\.1):800[01]\b/.test(text);

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The folder a block runs in, with `flotilla`, `npx` and `npm` shims first on PATH. */
function workspace(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-docs-'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
  symlinkSync(join(ROOT, 'bin'), join(dir, 'bin'));
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
  // Protocol definitions (a gRPC client loads them) and test fixtures the docs render as examples.
  symlinkSync(join(ROOT, 'proto'), join(dir, 'proto'));
  symlinkSync(join(ROOT, 'test'), join(dir, 'test'));
  // `npm:` model files resolve from the repository's folder upwards, as in the checkout.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const shims = join(dir, '.shims');
  mkdirSync(shims);
  const write = (name: string, body: string) => {
    writeFileSync(join(shims, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(shims, name), 0o755);
  };
  const node = JSON.stringify(process.execPath);
  write('flotilla', `exec ${node} ${JSON.stringify(CLI)} "$@"`);
  write(
    'npx',
    `if [ "$1" = flotilla ]; then shift; exec ${node} ${JSON.stringify(CLI)} "$@"; fi\necho "docs test: npx $* is not run" >&2; exit 127`,
  );
  const start = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
  ).scripts.start;
  write(
    'npm',
    `if [ "$1" = start ]; then exec ${start}; fi\necho "docs test: npm $* is not run (mark the block # needs: checkout)" >&2; exit 127`,
  );
  const home = join(dir, '.flotilla');
  return { dir, env: { ...process.env, PATH: `${shims}:${process.env['PATH'] ?? ''}`, FLOTILLA_HOME: home } };
}

/** Runs one block in bash in its own process group; stops whatever it left running. */
async function runBlock(
  block: DocBlock,
  { dir, env }: { dir: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const proc: ChildProcess = spawn('bash', ['-c', `set -eo pipefail\n${block.text}\n`], {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => {
    output += `\n[docs test: stopped after ${BLOCK_TIMEOUT_MS} ms]`;
    kill(proc.pid!, 'SIGKILL');
  }, BLOCK_TIMEOUT_MS);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  // Servers the block left in the background: drain, then kill what is left.
  kill(proc.pid!, 'SIGTERM');
  await waitFor(() => !groupAlive(proc.pid!), 15_000, `the processes of ${block.where} to exit`).catch(() =>
    kill(proc.pid!, 'SIGKILL'),
  );
  return { code, output, ms: Date.now() - started };
}

function kill(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // The group is gone.
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

/** `--flag` tokens of each `flotilla COMMAND` line (continuations joined), by command. */
export function flotillaFlags(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const joined = text.replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    for (const m of line.matchAll(/flotilla(?:\.js)?\s+([a-z-]+)([^|;&#\n]*)/g)) {
      const flags = out.get(m[1]!) ?? new Set<string>();
      for (const f of m[2]!.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)) flags.add(f[1]!);
      out.set(m[1]!, flags);
    }
  }
  return out;
}

const helpCache = new Map<string, string>();
function help(command: string): string {
  let text = helpCache.get(command);
  if (text === undefined) {
    text = execFileSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8' });
    helpCache.set(command, text);
  }
  return text;
}

describe('every shell example in the docs runs as pasted', () => {
  let owned: FlotillaProcess | undefined;
  const stopOwned = async (): Promise<void> => {
    await owned?.stop();
    owned = undefined;
  };
  const workspaces = new Map<string, { dir: string; env: NodeJS.ProcessEnv }>();
  const pageWorkspace = (block: DocBlock) => {
    const page = block.where.slice(0, block.where.lastIndexOf(':'));
    let ws = workspaces.get(page);
    if (!ws) {
      ws = workspace();
      workspaces.set(page, ws);
    }
    return ws;
  };
  after(async () => {
    await stopOwned();
    for (const ws of workspaces.values()) rmSync(ws.dir, { recursive: true, force: true });
  });

  it('finds the examples (README and docs/*.md)', () => {
    assert.ok(BLOCKS.length >= 10, `found ${BLOCKS.length} blocks`);
  });

  for (const block of BLOCKS) {
    it(`${block.where}${block.needs ? ` (needs ${block.needs}: flags checked)` : ''}`, async (t) => {
      if (block.needs !== undefined) {
        for (const [command, flags] of flotillaFlags(block.text)) {
          const text = help(command);
          for (const flag of flags)
            assert.match(
              text,
              new RegExp(`\\s${flag}\\b`),
              `${block.where}: flotilla ${command} has no ${flag}`,
            );
        }
        return;
      }
      if (startsServe(block.text)) await stopOwned();
      else if (usesServe(block.text) && owned === undefined) {
        owned = await startCli(['serve', '--model-repository', join(ROOT, 'examples/models')], {
          listenTimeoutMs: 30_000,
          what: 'the docs test server',
        });
        await waitFor(
          async () => (await fetch('http://127.0.0.1:8000/v2/health/ready')).status === 200,
          60_000,
          'the docs test server ready',
        );
      }
      for (const port of DOCUMENTED_PORTS) {
        if (owned !== undefined && (port === 8000 || port === 8001)) continue;
        assert.equal(await portOpen(port), false, `port ${port} is taken: the docs examples need it free`);
      }
      const { code, output, ms } = await runBlock(block, pageWorkspace(block));
      t.diagnostic(`${block.where}: exit ${code} in ${ms} ms`);
      assert.equal(
        code,
        0,
        `${block.where} failed (exit ${code}):\n${block.text}\n--- output:\n${output.slice(-4000)}`,
      );
    });
  }
});
