import type { Tensor } from '../../core/index.js';
import type { HttpPool } from './http-pool.js';
import { encodeHttpRequest } from './http-request.js';
import { decodeHttpOutputs, encodeHttpCall, type HttpProtocol, type ModelRef } from './protocols.js';
import type { HttpReply } from './response-parser.js';
import { type Outcome, type OutcomeCallback, REPLICA_HEADER, type Target, VARIANT_HEADER } from './target.js';

/** Response headers an HttpTarget's pool must capture, in this order. */
export const HTTP_TARGET_CAPTURE = [
  VARIANT_HEADER,
  REPLICA_HEADER,
  'inference-header-content-length',
] as const;

/** Options of {@link HttpTarget}. */
export interface HttpTargetOptions {
  /** Base URL; its path is a prefix (a gateway routing by path), e.g. `http://127.0.0.1:8080/mnist`. */
  readonly url: string;
  readonly protocol: HttpProtocol;
  readonly ref: ModelRef;
  /** The tensors of each payload. */
  readonly payloads: readonly (readonly Tensor[])[];
  /** Extra request headers (e.g. `host` for a gateway routing by Host). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Checks a decoded answer of payload i: labeled rows and correct rows (dataset runs). */
  readonly check?: (payload: number, outputs: readonly Tensor[]) => { labeled: number; correct: number };
}

/** Text of an error answer: status plus the server's `error` (and `code`) when it sent JSON. */
function errorText(reply: HttpReply): string {
  const text = reply.body?.toString('utf8') ?? '';
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof body.error === 'string')
      return `HTTP ${reply.status}${typeof body.code === 'string' ? ` ${body.code}` : ''}: ${body.error}`;
  } catch {
    // Not JSON: show the start of it.
  }
  return `HTTP ${reply.status}${text ? `: ${text.slice(0, 120)}` : ''}`;
}

/**
 * An HTTP endpoint: every payload is encoded to the exact request bytes once, here, and each send
 * is one pool write. Answers are decoded only when there is a label to check.
 */
export class HttpTarget implements Target {
  readonly name: string;
  private readonly requests: Buffer[];

  constructor(
    private readonly options: HttpTargetOptions,
    private readonly deps: { readonly pool: HttpPool },
  ) {
    const url = new URL(options.url);
    this.name = options.url;
    const prefix = url.pathname.replace(/\/+$/, '');
    this.requests = options.payloads.map((inputs) => {
      const call = encodeHttpCall(options.protocol, options.ref, inputs);
      return encodeHttpRequest({
        method: 'POST',
        path: prefix + call.path,
        host: url.host,
        headers: { ...call.headers, ...options.headers },
        body: call.body,
      });
    });
  }

  send(payload: number, done: OutcomeCallback): void {
    this.deps.pool.send(this.requests[payload]!, (err, reply) => done(this.outcome(payload, err, reply)));
  }

  private outcome(payload: number, err: Error | undefined, reply: HttpReply | undefined): Outcome {
    if (err || !reply) return { ok: false, error: err?.message ?? 'no answer' };
    const [variant, replica, headerLength] = reply.headers;
    const where = {
      ...(variant !== undefined ? { variant } : {}),
      ...(replica !== undefined ? { replica } : {}),
    };
    if (reply.status !== 200) return { ok: false, error: errorText(reply), ...where };
    const check = this.options.check;
    if (!check || !reply.body) return { ok: true, ...where };
    try {
      const outputs = decodeHttpOutputs(
        this.options.protocol,
        this.options.ref,
        reply.body,
        headerLength === undefined ? undefined : Number(headerLength),
      );
      return { ok: true, ...where, ...check(payload, outputs) };
    } catch (e) {
      return { ok: false, error: `undecodable answer: ${(e as Error).message}`, ...where };
    }
  }

  close(): Promise<void> {
    return this.deps.pool.close();
  }
}
