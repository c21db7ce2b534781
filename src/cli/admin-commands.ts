/**
 * `flotilla status`, `flotilla scale` and `flotilla rollout`: small clients of a running
 * `flotilla up`'s admin API. With no flags they find it through the context file `up` writes.
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { AdminClient, type AdminClientOptions, parseWeights } from '../client/admin-client.js';
import { FlotillaError, UsageError } from '../core/index.js';
import type { RolloutAction, ScaleAnswer, ServiceStatus } from '../fleet/status.js';
import { formatRollout, formatStatus, formatWeights } from './status-table.js';
import { listUpContexts, type NamedUpContext } from './up-context.js';

/** Where `flotilla up` listens unless told otherwise. */
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8080';

/** The connection flags every admin command takes (already merged with their env vars). */
export interface AdminFlags {
  readonly url?: string;
  readonly adminToken?: string;
  /** A running `up`'s context name (or pid), from `--context`. */
  readonly context?: string;
}

/** Where an admin command goes, and how it says so. */
export interface AdminTarget {
  readonly client: AdminClientOptions;
  /** `fleet flotilla: /srv/flotilla.yaml, admin http://127.0.0.1:8080`: the header the command prints. */
  readonly fleet: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

function parseUrl(text: string): string {
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol))
    throw new InvalidArgumentError(`expected an http(s) URL such as ${DEFAULT_ADMIN_URL}, got "${text}"`);
  return trimSlash(text);
}

function parseReplicas(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a number of replicas (an integer >= 0), got "${text}"`);
  return n;
}

/** `flotilla (pid 4242): /srv/flotilla.yaml, admin http://127.0.0.1:8080` */
function describeContext(c: NamedUpContext): string {
  return `${c.name} (pid ${c.pid}): ${c.file}, admin ${c.adminUrl}`;
}

/**
 * URL and token: flags (or FLOTILLA_URL / FLOTILLA_ADMIN_TOKEN), `--context NAME`, else the one
 * running `up`'s context; with several running and nothing to choose by, a UsageError listing
 * them (never a guess). The context's token goes only to the context's own URL: `--url` pointing
 * elsewhere must not receive a local fleet's token.
 */
export async function resolveAdminTarget(flags: AdminFlags, env: Env = process.env): Promise<AdminTarget> {
  const given = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);
  const url = given(flags.url);
  const token = given(flags.adminToken);
  const name = given(flags.context);
  if (url !== undefined && name !== undefined)
    throw new UsageError('--context', '--url and --context each name a fleet: give one of them');
  const contexts = url !== undefined && token !== undefined ? [] : await listUpContexts(env);
  const names = (): string =>
    contexts.length === 0 ? 'none is running' : `running: ${contexts.map(describeContext).join('; ')}`;
  let ctx: NamedUpContext | undefined;
  if (name !== undefined) {
    ctx = contexts.find((c) => c.name === name || String(c.pid) === name);
    if (ctx === undefined)
      throw new UsageError('--context', `no running flotilla up named "${name}" (${names()})`);
  } else if (url !== undefined) {
    ctx = contexts.find((c) => trimSlash(c.adminUrl) === trimSlash(url));
  } else if (contexts.length > 1) {
    throw new UsageError(
      '--context',
      `${contexts.length} flotilla up are running; choose one with --context NAME or --url URL (${names()})`,
    );
  } else {
    ctx = contexts[0];
  }
  const target = trimSlash(url ?? ctx?.adminUrl ?? DEFAULT_ADMIN_URL);
  const useToken = token ?? ctx?.token;
  const fleet = ctx
    ? `fleet ${ctx.name}: ${ctx.file}, admin ${target}`
    : `fleet at ${target}${url === undefined ? ' (no running flotilla up found: the default URL)' : ''}`;
  return { client: { url: target, ...(useToken !== undefined ? { token: useToken } : {}) }, fleet };
}

function flagsOf(opts: Record<string, unknown>): AdminFlags {
  const url = opts['url'];
  const token = opts['adminToken'];
  const context = opts['context'];
  return {
    ...(typeof url === 'string' ? { url } : {}),
    ...(typeof token === 'string' ? { adminToken: token } : {}),
    ...(typeof context === 'string' ? { context } : {}),
  };
}

/**
 * Runs `use` against the fleet the flags name, after saying which one: on stdout as the first
 * line, or on stderr when stdout carries JSON.
 */
async function withClient<T>(
  opts: Record<string, unknown>,
  use: (client: AdminClient) => Promise<T>,
): Promise<T> {
  const target = await resolveAdminTarget(flagsOf(opts));
  if (opts['json'] === true) process.stderr.write(`${target.fleet}\n`);
  else print(target.fleet);
  const client = new AdminClient(target.client);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** `--url`, `--context` and `--admin-token`, as every admin command takes them. */
function withTargetOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--url <url>',
        `admin URL of flotilla up (default: the running flotilla up's, from its context file, else ${DEFAULT_ADMIN_URL})`,
      )
        .env('FLOTILLA_URL')
        .argParser(parseUrl),
    )
    .addOption(
      new Option(
        '--context <name>',
        'which running flotilla up, by the name (or pid) it printed; needed when several run',
      ).env('FLOTILLA_CONTEXT'),
    )
    .addOption(
      new Option(
        '--admin-token <token>',
        "bearer token of the admin API (default: the running flotilla up's, from its context file)",
      ).env('FLOTILLA_ADMIN_TOKEN'),
    );
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The `flotilla status` command. */
export function statusCommand(): Command {
  return withTargetOptions(
    new Command('status').description(
      "Show a running flotilla up's services, variants, replicas, rollouts and recent scaling decisions.",
    ),
  )
    .option('--json', 'print the admin API answer as JSON')
    .action(async (opts: Record<string, unknown>) => {
      const report = await withClient(opts, (c) => c.status());
      print(opts['json'] === true ? JSON.stringify(report, null, 2) : formatStatus(report, Date.now()));
    });
}

/**
 * `mnist/stable: scaling to 3 replicas (min = max = 3); 1 ready now`, from what was applied;
 * a request capped by --force says so first.
 */
export function scaleSummary(service: ScaleAnswer, tag: string): string {
  const { requested, applied, capped } = service.scaled;
  const replicas = applied;
  const head =
    (capped !== undefined ? `asked ${requested}, capped at ${applied} (${capped})\n` : '') +
    `${service.name}/${tag}: scaling to ${replicas} replica${replicas === 1 ? '' : 's'}`;
  const scale = service.variants.find((v) => v.tag === tag)?.scale;
  if (scale === undefined) return head;
  const bounds = scale.min === scale.max ? `min = max = ${scale.min}` : `min ${scale.min}, max ${scale.max}`;
  return `${head} (${bounds}); ${scale.ready} ready now`;
}

/** The `flotilla scale` command. */
export function scaleCommand(): Command {
  return withTargetOptions(
    new Command('scale')
      .description(
        'Pin a managed variant of a running flotilla up at N replicas (min = max = N, as kubectl scale would; 0 stops them). A rollback or rollout start unpins the stable variant.',
      )
      .argument('<service>', 'service name')
      .argument('<variant>', 'variant tag')
      .argument('<replicas>', 'replicas wanted (an integer >= 0)', parseReplicas)
      .option(
        '--force',
        "above the variant's max or what the machine holds, pin the most allowed instead of refusing",
      ),
  ).action(async (service: string, variant: string, replicas: number, opts: Record<string, unknown>) => {
    const answer = await withClient(opts, (c) => c.scale(service, variant, replicas, opts['force'] === true));
    print(scaleSummary(answer, variant));
  });
}

const ROLLOUT_ACTIONS = ['set-weights', 'promote', 'rollback', 'start'] as const;
type RolloutCommandAction = (typeof ROLLOUT_ACTIONS)[number];

/** `mnist: stable 90%, canary 10%; rollout: progressing 10% (step 1/4)  stable: …` */
function rolloutSummary(service: {
  readonly name: string;
  readonly variants: readonly { readonly tag: string; readonly weight: number }[];
  readonly rollout?: ServiceStatus['rollout'];
}): string {
  const rollout = service.rollout ? formatRollout(service.rollout) : 'no rollout';
  return `${service.name}: ${formatWeights(service.variants)}; ${rollout}`;
}

/**
 * What set-weights applied, and the rollout state it left: `mnist: weights set: stable 70%,
 * canary 30%; rollout: manual 30% …` (it printed `no rollout` while status said `manual 30%`).
 */
export function weightsSummary(
  applied: {
    readonly name: string;
    readonly variants: readonly { readonly tag: string; readonly weight: number }[];
  },
  service: ServiceStatus | undefined,
): string {
  const rollout = service?.rollout ? formatRollout(service.rollout) : 'no progressive rollout';
  return `${applied.name}: weights set: ${formatWeights(applied.variants)}; ${rollout}`;
}

/** The `flotilla rollout` command. */
export function rolloutCommand(): Command {
  return withTargetOptions(
    new Command('rollout')
      .description(
        'Steer a service\'s canary in a running flotilla up: set-weights TAG=W … (or "90 | 10"), start, promote or rollback.',
      )
      .argument('<service>', 'service name')
      .addArgument(new Argument('<action>', 'what to do').choices(ROLLOUT_ACTIONS))
      .argument('[weights...]', 'for set-weights: TAG=W pairs, e.g. stable=90 canary=10, or one "90 | 10"'),
  ).action(
    async (service: string, action: RolloutCommandAction, args: string[], opts: Record<string, unknown>) => {
      if (action === 'set-weights') {
        const weights = parseWeights(args);
        const [applied, status] = await withClient(opts, async (c) => {
          const set = await c.setWeights(service, weights);
          return [set, await c.status()] as const;
        });
        print(
          weightsSummary(
            applied,
            status.services.find((s) => s.name === service),
          ),
        );
        return;
      }
      if (args.length > 0)
        throw new FlotillaError(
          'FLT_INVALID_FIELD',
          `rollout ${action} takes no further arguments, got: ${args.join(' ')}`,
        );
      const verb: RolloutAction = action;
      print(rolloutSummary(await withClient(opts, (c) => c.rollout(service, verb))));
    },
  );
}
