import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { type FlotillaError, UnavailableError } from '../../core/index.js';
import type { Outcome } from '../../lb/index.js';
import { claimRetry, isRetryableStatus } from '../../lb/index.js';
import { Admission, type AdmittedCall, enterAdmission } from '../activator/admission.js';
import { UpstreamError } from '../errors.js';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import type { ServiceRuntime } from '../runtime/service-runtime.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';
import type { ProxyContext } from './context.js';
import { clientResponseHeaders } from './headers.js';
import { classify, recordCallEnd, recordTryEnd, TryAbandoned } from './outcomes.js';
import { sendError } from './replies.js';

/** The error a try is aborted with at its per-try deadline (classified as a timeout). */
function perTryTimeout(): Error {
  return Object.assign(new Error('no response headers within the per-try timeout'), {
    code: 'UND_ERR_HEADERS_TIMEOUT',
  });
}

/** Where a response keeps its call, so the server's one 'close' listener per request reaches it. */
export const CALL: unique symbol = Symbol('flotilla.proxyCall');

/** A response that may carry its ProxyCall. */
export type ResponseWithCall = ServerResponse & { [CALL]?: ProxyCall };

/**
 * One proxied request: the undici dispatch handler of each of its tries. Picks a replica, streams
 * the answer to the client as it arrives, and on a connection error or a 502/503 before anything
 * reached the client tries another replica, within the retry budget and the overall timeout.
 */
export class ProxyCall implements Dispatcher.DispatchHandler, AdmittedCall {
  private replica: ReplicaRuntime | undefined;
  private attempted: ReplicaRuntime[] | undefined;
  private retries = 0;
  private tryStart = 0;
  private status = 0;
  private abortTry: ((err?: Error) => void) | undefined;
  /** Response headers went to the client: no retry is possible any more. */
  private sent = false;
  /** Discarding a 502/503 answer that will be retried. */
  private swallow = false;
  /** A retry-budget slot taken for the next try (reserved) or held by this one. */
  private slotReserved = false;
  private slotHeld = false;
  private abandoned: TryAbandoned | undefined;
  private done = false;
  private readonly deadline: number;
  private tryDeadline = 0;
  /** One timer for both deadlines (undici's own header timer ticks in ~1 s steps: too coarse). */
  private timer: NodeJS.Timeout | undefined;
  /** The current try passed its per-try deadline; aborted as soon as undici gives the means. */
  private tryTimedOut = false;
  private gotHeaders = false;
  /** Through the variant's activator (managed variants only). */
  private readonly admission: Admission | undefined;
  private readonly resume = (): void => this.resumeUpstream?.();
  private resumeUpstream: (() => void) | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly service: ServiceRuntime,
    private readonly variant: VariantRuntime,
    private readonly path: string,
    private readonly headers: string[],
    private readonly body: Buffer | null | IncomingMessage,
    private readonly startedAt: number,
  ) {
    const t = service.spec.timeouts;
    this.deadline = startedAt + t.totalMs;
    service.budget.requestStarted();
    variant.requestStarted();
    this.admission = Admission.for(variant, service.name);
    (res as ResponseWithCall)[CALL] = this;
  }

  /** The client's connection closed: ends the call if it was still going (the client went away). */
  clientClosed(): void {
    if (!this.done) this.abandon(new TryAbandoned('cancelled'));
  }

  /** Starts the first try once the variant's activator admits the call. */
  start(): void {
    enterAdmission(this.admission, this);
  }

  get finished(): boolean {
    return this.done;
  }

  admitted(): void {
    this.tryNext();
  }

  refused(err: FlotillaError): void {
    this.fail(err);
  }

  private tryNext(): void {
    const picked = this.variant.pickReplica(this.service.name, this.attempted);
    if (picked instanceof UnavailableError) {
      // The variant lost its last replica (a crash) with nothing sent yet: wait for the restart.
      if (!this.sent && this.admission?.waitAgain(this)) return;
      this.fail(picked);
      return;
    }
    this.replica = picked;
    this.slotHeld = this.slotReserved;
    this.slotReserved = false;
    this.swallow = false;
    this.status = 0;
    this.abortTry = undefined;
    this.tryStart = this.ctx.clock.now();
    this.tryDeadline = Math.min(this.deadline, this.tryStart + this.service.spec.timeouts.perTryMs);
    this.tryTimedOut = false;
    this.gotHeaders = false;
    this.arm(this.tryDeadline);
    picked.pool.dispatch(
      {
        method: this.req.method ?? 'GET',
        path: this.path,
        headers: this.headers,
        body: this.body,
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    // A try that waited in the pool's queue past the end of its request is dropped at once.
    if (this.abandoned) abort(this.abandoned);
    else if (this.tryTimedOut) abort(perTryTimeout());
    else this.abortTry = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.status = statusCode;
    this.gotHeaders = true;
    if (
      isRetryableStatus(statusCode) &&
      this.mayRetry({ kind: 'response', status: statusCode, latencyMs: 0 })
    ) {
      this.swallow = true;
      return true;
    }
    this.resumeUpstream = resume;
    const r = this.replica!;
    const extra = [
      'x-flotilla-service',
      this.service.name,
      'x-flotilla-variant',
      this.variant.tag,
      'x-flotilla-replica',
      r.id,
    ];
    if (this.ctx.draining()) extra.push('connection', 'close');
    this.res.writeHead(statusCode, clientResponseHeaders(rawHeaders, extra));
    this.sent = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.swallow || this.done) return true;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resume);
    return false;
  }

  onComplete(): void {
    const outcome: Outcome = {
      kind: 'response',
      status: this.status,
      latencyMs: this.ctx.clock.now() - this.tryStart,
    };
    this.endTry(outcome);
    if (this.done) return;
    if (this.swallow && this.retry()) return;
    if (!this.sent) {
      // A swallowed 502/503 whose retry could not start: the client gets a gateway error.
      this.fail(
        new UpstreamError('FLT_UPSTREAM_FAILED', `replica ${this.replica!.id} answered ${this.status}`),
      );
      return;
    }
    this.res.end();
    this.finish(this.status >= 500);
  }

  onError(err: Error): void {
    const outcome = classify(err, this.ctx.clock.now() - this.tryStart);
    this.endTry(outcome);
    if (this.done) return;
    if (this.sent) {
      // Part of the answer is out: the client must see the break, not a truncated success.
      this.res.destroy(err);
      this.finish(true);
      return;
    }
    // A swallowed 502/503 that broke off while it was discarded has its retry decided already.
    if (!this.abandoned && (this.swallow || this.mayRetry(outcome)) && this.retry()) return;
    const r = this.replica!;
    this.fail(
      outcome.kind === 'timeout'
        ? new UpstreamError(
            'FLT_UPSTREAM_TIMEOUT',
            `replica ${r.id} did not answer in time: ${err.message}`,
            { cause: err },
          )
        : new UpstreamError('FLT_UPSTREAM_FAILED', `replica ${r.id} failed: ${err.message}`, { cause: err }),
    );
  }

  /** Whether to try again after `outcome`; reserves the budget slot the retry needs, if any. */
  private mayRetry(outcome: Outcome): boolean {
    const claim = claimRetry(outcome, this.retryContext(), this.service.budget);
    if (claim === 'slot') this.slotReserved = true;
    return claim !== 'no';
  }

  private retryContext() {
    return {
      retries: this.retries,
      maxRetries: this.service.spec.retry.maxRetries,
      replayable: !this.isStreamed(),
      remainingMs: this.deadline - this.ctx.clock.now(),
    };
  }

  private isStreamed(): boolean {
    return this.body !== null && !Buffer.isBuffer(this.body);
  }

  /** Starts the next try on another replica (the budget slot, if it needs one, is reserved already). */
  private retry(): boolean {
    this.retries++;
    this.attempted ??= [];
    this.attempted.push(this.replica!);
    this.ctx.retried(this.service.name);
    this.tryNext();
    return true;
  }

  private endTry(outcome: Outcome): void {
    recordTryEnd(this.variant, this.replica!, outcome);
    if (this.slotHeld) {
      this.service.budget.retryEnded();
      this.slotHeld = false;
    }
    this.abortTry = undefined;
  }

  private abandon(reason: TryAbandoned): void {
    if (this.done || this.abandoned) return;
    this.abandoned = reason;
    if (this.slotReserved) {
      this.service.budget.retryEnded();
      this.slotReserved = false;
    }
    if (reason.reason === 'cancelled') {
      this.abortTry?.(reason);
      this.finish(false);
      return;
    }
    if (this.sent) this.res.destroy(reason);
    else
      this.fail(
        new UpstreamError(
          'FLT_UPSTREAM_TIMEOUT',
          `no answer within ${this.service.spec.timeouts.totalMs} ms`,
        ),
      );
    this.abortTry?.(reason);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, at - this.ctx.clock.now()));
  }

  private onTimer(): void {
    if (this.done) return;
    const now = this.ctx.clock.now();
    if (now >= this.deadline) {
      this.abandon(new TryAbandoned('timeout'));
      return;
    }
    if (!this.gotHeaders) {
      if (now < this.tryDeadline) this.arm(this.tryDeadline);
      else {
        // Abandons this try only: onError sees a timeout outcome and may retry elsewhere.
        this.tryTimedOut = true;
        this.abortTry?.(perTryTimeout());
        this.arm(this.deadline);
      }
      return;
    }
    this.arm(this.deadline);
  }

  private fail(err: FlotillaError): void {
    if (this.slotReserved) {
      this.service.budget.retryEnded();
      this.slotReserved = false;
    }
    sendError(this.res, err, this.service.name, this.variant.tag, this.replica?.id, this.ctx.draining());
    this.finish(true);
  }

  private finish(failed: boolean): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.admission?.leave();
    recordCallEnd(
      this.service,
      this.variant,
      this.replica,
      failed,
      (this.ctx.clock.now() - this.startedAt) / 1000,
    );
  }
}
