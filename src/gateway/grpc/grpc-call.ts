import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Readable } from 'node:stream';
import { type Clock, type FlotillaError, GRPC_STATUS, UnavailableError } from '../../core/index.js';
import type { Outcome } from '../../lb/index.js';
import { claimRetry, isRetryableStatus } from '../../lb/index.js';
import { percentEncodeGrpcMessage } from '../../protocol/oip-grpc/index.js';
import { Admission, type AdmittedCall, enterAdmission } from '../activator/admission.js';
import { UpstreamError } from '../errors.js';
import { classify, recordCallEnd, recordTryEnd } from '../proxy/outcomes.js';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import type { ServiceRuntime } from '../runtime/service-runtime.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';
import { forwardable, sendStatus } from './grpc-reply.js';
import {
  formatGrpcTimeout,
  grpcStatusOf,
  isServerFault,
  outcomeStatus,
  parseGrpcTimeout,
} from './grpc-status.js';

/** What a gRPC call needs from the front that made it. */
export interface GrpcCallContext {
  readonly clock: Clock;
  /** The HTTP/2 session to a replica's gRPC address; undefined when it has none. */
  session(replica: ReplicaRuntime): ClientHttp2Session | undefined;
  retried(service: string): void;
}

/** One routed gRPC call. */
export interface GrpcCallOptions {
  readonly ctx: GrpcCallContext;
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly path: string;
  readonly service: ServiceRuntime;
  readonly variant: VariantRuntime;
  /** The request message(s) held so far (the model name rewritten for the variant). */
  readonly payload: Buffer;
  /** True for a unary call (whole request held: replayable); false for a stream, piped on. */
  readonly unary: boolean;
  /** A stream's later messages as they are to be sent on (default: the client's stream as it came). */
  readonly rest?: Readable | undefined;
}

/**
 * One proxied gRPC call with the HTTP data paths' lifecycle: counted in the variant and the retry
 * budget from admission to finish; each try bounded by the service's per-try timeout until the
 * replica answers, the call by the sooner of `timeouts.total` and the client's `grpc-timeout`
 * (DEADLINE_EXCEEDED past it); a unary call whose try broke, timed out or answered UNAVAILABLE
 * before anything reached the client is retried on another replica through `claimRetry`, holding
 * its budget slot for the retry's duration. A stream has no per-try or service total (its life is
 * the client's to choose): only its `grpc-timeout` bounds it, and it is never retried.
 */
export class GrpcCall implements AdmittedCall {
  private readonly o: GrpcCallOptions;
  private readonly startedAt: number;
  private readonly deadline: number;
  /** The client gave a `grpc-timeout`: the replica is told what is left of it. */
  private readonly clientDeadline: boolean;
  private readonly admission: Admission | undefined;
  private replica: ReplicaRuntime | undefined;
  private attempted: ReplicaRuntime[] | undefined;
  private retries = 0;
  /** The current try's upstream stream, while that try is open. */
  private up: ClientHttp2Stream | undefined;
  private tryStart = 0;
  private tryDeadline = 0;
  /** The current try's replica answered (headers): the per-try timeout no longer applies. */
  private answered = false;
  /** Response headers went to the client: no retry is possible any more. */
  private sent = false;
  /** The trailers the client gets when the relayed answer ends. */
  private trailers: OutgoingHttpHeaders = { 'grpc-status': '0' };
  private slotHeld = false;
  /** A budget slot taken by `mayRetry` for the next try (held by that try once it starts). */
  private slotTaken = false;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(options: GrpcCallOptions) {
    this.o = options;
    const { ctx, service, unary } = options;
    this.startedAt = ctx.clock.now();
    const clientMs = parseGrpcTimeout(options.headers['grpc-timeout']);
    this.clientDeadline = clientMs !== undefined;
    this.deadline =
      this.startedAt + Math.min(unary ? service.spec.timeouts.totalMs : Infinity, clientMs ?? Infinity);
    service.budget.requestStarted();
    options.variant.requestStarted();
    this.admission = Admission.for(options.variant, service.name);
    options.stream.once('close', () => this.clientClosed());
  }

  /** Starts once the variant's activator admits the call; the deadline runs from now. */
  admit(): void {
    if (Number.isFinite(this.deadline)) this.arm(this.deadline);
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
    const { ctx, service, variant, headers, stream } = this.o;
    const picked = variant.pickReplica(service.name, this.attempted);
    if (picked instanceof UnavailableError) {
      // The variant lost its last replica (a crash) with nothing sent yet: wait for the restart.
      if (!this.sent && this.admission?.waitAgain(this)) return;
      this.fail(picked);
      return;
    }
    const session = ctx.session(picked);
    if (!session) {
      // The pick counted a request in flight on the replica: given back, no try was made.
      variant.picker.report(picked, { kind: 'cancelled', latencyMs: 0 });
      this.fail(
        new UnavailableError(
          'FLT_NO_REPLICA',
          `variant ${variant.tag} of ${service.name} has no gRPC replica`,
        ),
      );
      return;
    }
    this.replica = picked;
    this.answered = false;
    this.tryStart = ctx.clock.now();
    this.tryDeadline = this.o.unary
      ? Math.min(this.deadline, this.tryStart + service.spec.timeouts.perTryMs)
      : this.deadline;
    if (Number.isFinite(this.tryDeadline)) this.arm(this.tryDeadline);
    const up = session.request({
      ...forwardable(headers),
      ':method': 'POST',
      ':path': this.o.path,
      te: 'trailers',
      ...(this.clientDeadline ? { 'grpc-timeout': formatGrpcTimeout(this.deadline - this.tryStart) } : {}),
    });
    this.up = up;
    up.once('response', (h, flags) => {
      if (up === this.up) this.onResponse(up, h, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
    });
    up.once('trailers', (t) => {
      if (up === this.up) this.onTrailers(t);
    });
    up.on('error', (err: Error) => {
      if (up === this.up) this.tryBroke(classify(err, this.elapsedTry()), err.message);
    });
    up.once('close', () => {
      if (up === this.up) this.tryBroke({ kind: 'reset', latencyMs: this.elapsedTry() }, 'stream closed');
    });
    up.write(this.o.payload);
    if (this.o.unary) up.end();
    else {
      (this.o.rest ?? stream).pipe(up);
      stream.resume();
    }
  }

  private onResponse(up: ClientHttp2Stream, h: IncomingHttpHeaders, trailersOnly: boolean): void {
    const { stream, service, variant } = this.o;
    this.answered = true;
    if (Number.isFinite(this.deadline)) this.arm(this.deadline);
    const out: OutgoingHttpHeaders = {
      ...forwardable(h),
      ':status': h[':status'] ?? 200,
      'x-flotilla-service': service.name,
      'x-flotilla-variant': variant.tag,
      'x-flotilla-replica': this.replica!.id,
    };
    if (trailersOnly) {
      const code = grpcStatusOf(h['grpc-status']);
      const outcome: Outcome = {
        kind: 'response',
        status: outcomeStatus(code),
        latencyMs: this.elapsedTry(),
      };
      if (isRetryableStatus(outcome.status) && this.mayRetry(outcome)) {
        up.close(constants.NGHTTP2_CANCEL);
        this.retryAfter(outcome);
        return;
      }
      this.endTry(outcome);
      if (!stream.destroyed && !stream.closed) stream.respond(out, { endStream: true });
      this.finish(isServerFault(code));
      return;
    }
    if (stream.destroyed || stream.closed) return;
    stream.respond(out, { waitForTrailers: true });
    this.sent = true;
    stream.once('wantTrailers', () => stream.sendTrailers(this.trailers));
    up.pipe(stream);
  }

  /** The replica's answer is complete: its trailers say how the call went. */
  private onTrailers(t: IncomingHttpHeaders): void {
    this.trailers = forwardable(t);
    const code = grpcStatusOf(t['grpc-status']);
    this.endTry({ kind: 'response', status: outcomeStatus(code), latencyMs: this.elapsedTry() });
    this.finish(isServerFault(code));
  }

  /** The try broke (connection refused or reset, per-try timeout) without a complete answer. */
  private tryBroke(outcome: Outcome, message: string): void {
    if (this.done) return;
    const up = this.up;
    if (up && !up.closed) up.close(constants.NGHTTP2_CANCEL);
    if (this.sent) {
      // Part of the answer is out: the client must see the break, not a truncated success.
      this.endTry(outcome);
      this.o.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      this.finish(true);
      return;
    }
    if (this.mayRetry(outcome)) {
      this.retryAfter(outcome);
      return;
    }
    this.endTry(outcome);
    const id = this.replica!.id;
    this.fail(
      outcome.kind === 'timeout'
        ? new UpstreamError(
            'FLT_UPSTREAM_TIMEOUT',
            `replica ${id} (gRPC) did not answer within ${Math.round(this.tryDeadline - this.tryStart)} ms`,
          )
        : new UpstreamError('FLT_UPSTREAM_FAILED', `replica ${id} (gRPC) failed: ${message}`),
    );
  }

  /** Whether to try again after `outcome`; takes the budget slot the retry needs, if any. */
  private mayRetry(outcome: Outcome): boolean {
    const { ctx, service } = this.o;
    const claim = claimRetry(
      outcome,
      {
        retries: this.retries,
        maxRetries: service.spec.retry.maxRetries,
        replayable: this.o.unary,
        remainingMs: this.deadline - ctx.clock.now(),
      },
      service.budget,
    );
    if (claim === 'slot') this.slotTaken = true;
    return claim !== 'no';
  }

  /** Retries after `outcome` on another replica (`mayRetry` said yes). */
  private retryAfter(outcome: Outcome): void {
    this.endTry(outcome);
    this.slotHeld = this.slotTaken;
    this.slotTaken = false;
    this.retries++;
    this.attempted ??= [];
    this.attempted.push(this.replica!);
    this.o.ctx.retried(this.o.service.name);
    this.tryNext();
  }

  /** Closes the current try's books; its budget slot, if it held one, goes back. */
  private endTry(outcome: Outcome): void {
    this.up = undefined;
    recordTryEnd(this.o.variant, this.replica!, outcome);
    if (this.slotHeld) {
      this.o.service.budget.retryEnded();
      this.slotHeld = false;
    }
  }

  private elapsedTry(): number {
    return this.o.ctx.clock.now() - this.tryStart;
  }

  /** The client's stream closed: the end of a relayed answer, or the client went away. */
  private clientClosed(): void {
    if (this.done) return;
    const up = this.up;
    if (up) {
      if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
      this.endTry({ kind: 'cancelled', latencyMs: this.elapsedTry() });
    }
    this.finish(false);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, at - this.o.ctx.clock.now()));
  }

  private onTimer(): void {
    if (this.done) return;
    const now = this.o.ctx.clock.now();
    if (now >= this.deadline) {
      this.expire();
      return;
    }
    if (this.up && !this.answered && now >= this.tryDeadline) {
      // Abandons this try only: it may be retried on another replica within the deadline.
      this.tryBroke({ kind: 'timeout', latencyMs: now - this.tryStart }, 'per-try timeout');
      return;
    }
    // Timers may fire a little early by this clock: re-armed until the deadline has passed.
    this.arm(this.up && !this.answered ? this.tryDeadline : this.deadline);
  }

  /** The call's deadline passed: DEADLINE_EXCEEDED, as a status or as the relayed answer's trailers. */
  private expire(): void {
    const { stream } = this.o;
    const up = this.up;
    const ms = Math.round(this.deadline - this.startedAt);
    const err = new UpstreamError(
      'FLT_UPSTREAM_TIMEOUT',
      `no answer within ${ms} ms (the sooner of grpc-timeout and the service's total timeout)`,
    );
    if (up) {
      up.unpipe(stream);
      if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
      this.endTry({ kind: 'timeout', latencyMs: this.elapsedTry() });
    }
    if (!this.sent) {
      this.fail(err);
      return;
    }
    this.trailers = {
      'grpc-status': String(GRPC_STATUS.DEADLINE_EXCEEDED),
      'grpc-message': percentEncodeGrpcMessage(err.message),
      'flotilla-error-code': err.code,
    };
    if (!stream.destroyed && !stream.writableEnded) stream.end();
    this.finish(true);
  }

  private fail(err: FlotillaError): void {
    sendStatus(this.o.stream, err, {
      'x-flotilla-service': this.o.service.name,
      'x-flotilla-variant': this.o.variant.tag,
      ...(this.replica ? { 'x-flotilla-replica': this.replica.id } : {}),
    });
    this.finish(true);
  }

  private finish(failed: boolean): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    // A retry that found no replica to run on still holds its budget slot.
    if (this.slotHeld || this.slotTaken) this.o.service.budget.retryEnded();
    this.slotHeld = false;
    this.slotTaken = false;
    this.admission?.leave();
    const { ctx, service, variant } = this.o;
    recordCallEnd(service, variant, this.replica, failed, (ctx.clock.now() - this.startedAt) / 1000);
  }
}
