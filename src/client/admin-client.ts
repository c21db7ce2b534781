/**
 * A typed client of `flotilla up`'s admin API (`/_flotilla/…` behind a bearer token), used by
 * `flotilla status`, `scale` and `rollout`. Errors come out as FlotillaErrors whose messages can be
 * printed as they are: the server's own message, or what to do when it cannot be reached or
 * refuses the token.
 */
import { Agent, request } from 'undici';
import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode, FlotillaError } from '../core/index.js';
import type { RolloutAction, ScaleAnswer, ServiceStatus, StatusReport } from '../fleet/status.js';
import { formatIssues } from '../spec/format-issues.js';

export interface AdminClientOptions {
  /** Where `/_flotilla/…` answers, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly token?: string;
  /** Per request, for the connection and for the answer. Default 10 s. */
  readonly timeoutMs?: number;
}

/** The admin API answered with an error: `message` is its `error`, `code` its code when known. */
export class AdminApiError extends FlotillaError {
  constructor(
    /** The HTTP status actually answered (`httpStatus` is the catalogue's for `code`). */
    readonly status: number,
    message: string,
    /** The `code` field as sent, even when this client does not know it. */
    readonly serverCode: string | undefined,
  ) {
    super(knownCode(serverCode) ?? (status >= 500 ? 'FLT_INTERNAL' : 'FLT_INVALID_FIELD'), message);
  }
}

/**
 * Nothing answered at the admin URL. The catalogue has no code of its own for this yet, so it
 * borrows the gateway's "no answer from upstream" one.
 */
export class AdminUnreachableError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FLT_UPSTREAM_FAILED', message, options);
  }
}

/** A service's weights after a change, and its rollout when it has one. */
export interface ServiceWeights {
  readonly name: string;
  readonly variants: readonly { readonly tag: string; readonly weight: number }[];
  readonly rollout?: ServiceStatus['rollout'];
}

function knownCode(code: string | undefined): ErrorCode | undefined {
  return code !== undefined && Object.hasOwn(ERROR_CATALOGUE, code) ? (code as ErrorCode) : undefined;
}

// Loose objects: fields a newer server adds survive, so `status --json` shows everything it sent.
const count = z.number().int().nonnegative();

const replicaSchema = z.looseObject({
  id: z.string(),
  state: z.enum(['starting', 'ready', 'draining', 'stopped', 'crashed', 'static']),
  pid: z.number().int().exactOptional(),
  address: z.string().exactOptional(),
  grpcAddress: z.string().exactOptional(),
  inflight: count,
  healthy: z.boolean().exactOptional(),
  restarts: count.exactOptional(),
  startMs: z.number().exactOptional(),
});

const scaleSchema = z.looseObject({
  desired: count,
  ready: count,
  min: count,
  max: count,
  pinned: z.boolean(),
  panic: z.boolean(),
  queued: count,
  lastDecision: z.string().exactOptional(),
  failure: z.string().exactOptional(),
});

const variantSchema = z.looseObject({
  tag: z.string(),
  weight: z.number(),
  runs: z.enum(['endpoints', 'model', 'command']),
  modelName: z.string(),
  modelVersion: z.string().exactOptional(),
  inflight: count,
  requests: count,
  errors: count,
  scale: scaleSchema.exactOptional(),
  replicas: z.array(replicaSchema),
});

const rolloutSchema = z.looseObject({
  phase: z.enum(['progressing', 'promoted', 'rolled-back', 'manual']),
  stable: z.string(),
  canary: z.string(),
  canaryWeight: z.number(),
  step: count.exactOptional(),
  steps: z.array(z.number()).exactOptional(),
  lastDecision: z.string().exactOptional(),
  holding: z.string().exactOptional(),
});

const serviceSchema = z.looseObject({
  name: z.string(),
  hosts: z.array(z.string()),
  path: z.string().exactOptional(),
  variants: z.array(variantSchema),
  rollout: rolloutSchema.exactOptional(),
});

const scaleAnswerSchema = serviceSchema.extend({
  scaled: z.looseObject({
    requested: count,
    applied: count,
    capped: z.string().exactOptional(),
  }),
});

const reportSchema = z.looseObject({
  atMs: z.number(),
  services: z.array(serviceSchema),
  events: z.array(
    z.looseObject({
      atMs: z.number(),
      kind: z.enum(['scale', 'rollout', 'replica']),
      service: z.string(),
      variant: z.string().exactOptional(),
      message: z.string(),
    }),
  ),
});

// The weights endpoint answers the gateway's service state, which has no rollout of its own.
const weightsSchema = z.looseObject({
  name: z.string(),
  variants: z.array(z.looseObject({ tag: z.string(), weight: z.number() })),
  rollout: rolloutSchema.exactOptional(),
});

/** Why a connection failed, in words, from Node's and undici's error codes. */
function connectFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'no answer in time';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/**
 * The body `PUT …/weights` takes, from command-line words: `TAG=W` pairs, or one `"90 | 10"` string
 * (weights in variant order). Weights must be non-negative numbers and one of them positive.
 */
export function parseWeights(args: readonly string[]): Record<string, number> | string {
  if (args.length === 0) throw weightsError('no weights given: expected TAG=W [TAG=W …] or "90 | 10"');
  if (args.length === 1 && args[0]!.includes('|')) {
    const parts = args[0]!.split('|').map((p) => p.trim());
    const values = parts.map((p) => weightValue(p, args[0]!));
    checkOnePositive(values);
    return parts.join(' | ');
  }
  const weights: Record<string, number> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const tag = arg.slice(0, eq).trim();
    if (eq < 0 || tag === '') throw weightsError(`"${arg}" is not TAG=W (e.g. stable=90)`);
    if (Object.hasOwn(weights, tag)) throw weightsError(`variant ${tag} is given twice`);
    weights[tag] = weightValue(arg.slice(eq + 1).trim(), arg);
  }
  checkOnePositive(Object.values(weights));
  return weights;
}

function weightValue(text: string, arg: string): number {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n < 0)
    throw weightsError(`"${arg}": weight "${text}" is not a number >= 0`);
  return n;
}

function checkOnePositive(values: readonly number[]): void {
  if (!values.some((v) => v > 0)) throw weightsError('every weight is 0: at least one must be positive');
}

function weightsError(message: string): FlotillaError {
  return new FlotillaError('FLT_INVALID_FIELD', `weights: ${message}`);
}

/** Calls the admin API of one `flotilla up` (or gateway). Close it when done: it holds a socket. */
export class AdminClient {
  private readonly agent: Agent;
  private readonly base: string;

  constructor(private readonly options: AdminClientOptions) {
    const timeout = options.timeoutMs ?? 10_000;
    this.agent = new Agent({
      connections: 1,
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    this.base = options.url.replace(/\/+$/, '');
  }

  get url(): string {
    return this.base;
  }

  status(): Promise<StatusReport> {
    return this.call('GET', 'status', undefined, reportSchema);
  }

  /**
   * Pins a managed variant at `replicas` (min = max); answers the service after the change and
   * what was applied. Above the variant's max or the machine's capacity: FLT_SCALE_LIMIT, or with
   * `force` the most allowed.
   */
  scale(service: string, variant: string, replicas: number, force = false): Promise<ScaleAnswer> {
    const path = `services/${encodeURIComponent(service)}/variants/${encodeURIComponent(variant)}/scale`;
    return this.call('PUT', path, { replicas, ...(force ? { force } : {}) }, scaleAnswerSchema);
  }

  /** `{tag: weight}` or `"90 | 10"` in variant order (see parseWeights). */
  setWeights(service: string, weights: Readonly<Record<string, number>> | string): Promise<ServiceWeights> {
    return this.call('PUT', `services/${encodeURIComponent(service)}/weights`, { weights }, weightsSchema);
  }

  rollout(service: string, action: RolloutAction): Promise<ServiceStatus> {
    return this.call('POST', `services/${encodeURIComponent(service)}/rollout`, { action }, serviceSchema);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async call<T>(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    body: unknown,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token !== undefined) headers['authorization'] = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const where = `${method} ${this.base}/_flotilla/${path}`;
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.base}/_flotilla/${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        dispatcher: this.agent,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new AdminUnreachableError(
        `cannot reach flotilla up's admin API at ${this.base} (${connectFailure(err)}): ` +
          'is flotilla up running? (--url or FLOTILLA_URL to point elsewhere)',
        { cause: err },
      );
    }
    if (status < 200 || status > 299) throw this.errorFrom(status, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AdminApiError(status, `${where}: the answer is not JSON: ${text.slice(0, 200)}`, undefined);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new AdminApiError(
        status,
        `${where}: unexpected answer (${formatIssues(parsed.error, json)}); is the server a newer flotilla?`,
        undefined,
      );
    return parsed.data;
  }

  /** The server's message, with what to do about a refused token (the usual first-run problem). */
  private errorFrom(status: number, text: string): AdminApiError {
    let message = `HTTP ${status}: ${text.slice(0, 200)}`;
    let code: string | undefined;
    try {
      const body = JSON.parse(text) as { error?: unknown; code?: unknown };
      if (typeof body.error === 'string') message = body.error;
      if (typeof body.code === 'string') code = body.code;
    } catch {
      // Not JSON (a proxy's error page, say): the status and the start of the body say enough.
    }
    if (status === 401) {
      message =
        this.options.token === undefined
          ? `the admin API at ${this.base} needs its admin token: pass --admin-token or set FLOTILLA_ADMIN_TOKEN (${message})`
          : `the admin API at ${this.base} refused the admin token given: check --admin-token or FLOTILLA_ADMIN_TOKEN (${message})`;
    } else if (status === 403 && code === 'FLT_ADMIN_DISABLED') {
      message = `the admin API at ${this.base} is disabled, as no admin token was set where it runs: restart it with --admin-token or FLOTILLA_ADMIN_TOKEN (${message})`;
    }
    return new AdminApiError(status, message, code);
  }
}
