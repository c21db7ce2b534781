import type { Socket } from 'node:net';
import { type FlotillaError, UnavailableError } from '../../core/index.js';
import type { Outcome } from '../../lb/index.js';
import { claimRetry, isRetryableStatus } from '../../lb/index.js';
import { Admission, type AdmittedCall, enterAdmission } from '../activator/admission.js';
import { UpstreamError } from '../errors.js';
import type { ProxyContext } from '../proxy/context.js';
import { classify, recordCallEnd, recordTryEnd } from '../proxy/outcomes.js';
import type { ReplicaRuntime } from '../runtime/replica-runtime.js';
import type { ServiceRuntime } from '../runtime/service-runtime.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';
import { errorResponse } from './raw-replies.js';
import { ChunkedScanner, parseResponseHead, type ResponseHead } from './response-head.js';
import type { PooledSocket, SocketOwner } from './socket-pool.js';

/** The client side of a call: its socket, and what to do when the answer is complete. */
export interface FastClient {
  readonly socket: Socket;
  /** The answer is out; `keepAlive` false closes the client connection. */
  callDone(keepAlive: boolean): void;
}

const CRLF = Buffer.from('\r\n');
const CLOSE = Buffer.from('connection: close\r\n');

/**
 * One request on the fast path: raw HTTP/1.1 bytes to a replica's pooled socket, the answer's head
 * re-written (hop-by-hop lines out, the gateway's headers in) and its body relayed as it arrives.
 * Same policy as ProxyCall: retries of connection failures, per-try timeouts and 502/503 on another
 * replica within the budget, before any byte reached the client.
 */
export class FastCall implements SocketOwner, AdmittedCall {
  private replica: ReplicaRuntime | undefined;
  private socket: PooledSocket | undefined;
  private attempted: ReplicaRuntime[] | undefined;
  private retries = 0;
  /** Numbers the tries, so a socket that arrives for an abandoned try is handed back. */
  private attemptNo = 0;
  private tryStart = 0;
  private tryDeadline = 0;
  private readonly deadline: number;
  private timer: NodeJS.Timeout | undefined;
  private pending: Buffer | undefined;
  private head: ResponseHead | undefined;
  private remaining = 0;
  private scanner: ChunkedScanner | undefined;
  private sent = false;
  private done = false;
  private slotHeld = false;
  /** A budget slot taken by `mayRetry` for the next try (held by that try once it starts). */
  private slotTaken = false;
  /** Through the variant's activator (managed variants only). */
  private admission: Admission | undefined;

  constructor(
    private readonly client: FastClient,
    private readonly ctx: ProxyContext,
    private readonly service: ServiceRuntime,
    private readonly variant: VariantRuntime,
    private readonly method: string,
    private readonly request: Buffer,
    private readonly startedAt: number,
    private readonly closeAfter: boolean,
  ) {
    this.deadline = startedAt + service.spec.timeouts.totalMs;
  }

  start(): void {
    this.service.budget.requestStarted();
    this.variant.requestStarted();
    this.admission = Admission.for(this.variant, this.service.name);
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

  /** The client's connection closed before the answer was complete. */
  clientClosed(): void {
    if (this.done) return;
    this.detach();
    if (this.replica) this.endTry({ kind: 'cancelled', latencyMs: this.ctx.clock.now() - this.tryStart });
    this.finish(false);
  }

  /** The client's socket drained: read on from the replica. */
  clientDrained(): void {
    this.socket?.resume();
  }

  private tryNext(): void {
    const r = this.variant.pickReplica(this.service.name, this.attempted);
    if (r instanceof UnavailableError) {
      // The variant lost its last replica (a crash) with nothing sent yet: wait for the restart.
      if (!this.sent && this.admission?.waitAgain(this)) return;
      this.fail(r);
      return;
    }
    this.replica = r;
    this.head = undefined;
    this.pending = undefined;
    this.tryStart = this.ctx.clock.now();
    this.tryDeadline = Math.min(this.deadline, this.tryStart + this.service.spec.timeouts.perTryMs);
    this.arm(this.tryDeadline);
    const attempt = ++this.attemptNo;
    r.sockets.acquire((err, s) => {
      if (this.done || attempt !== this.attemptNo) {
        if (s) r.sockets.release(s, true);
        return;
      }
      if (err || !s) {
        const e = err ?? new Error('no socket');
        this.tryFailed(classify(e, this.ctx.clock.now() - this.tryStart), e.message);
        return;
      }
      this.socket = s;
      s.owner = this;
      s.write(this.request);
    });
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.head) {
      this.body(chunk);
      return;
    }
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const r = parseResponseHead(buf, this.method);
      if (r.kind === 'incomplete') {
        this.pending = buf;
        return;
      }
      if (r.kind === 'invalid') {
        this.detach();
        this.tryFailed({ kind: 'reset', latencyMs: this.ctx.clock.now() - this.tryStart }, r.reason);
        return;
      }
      if (r.kind === 'interim') {
        buf = buf.subarray(r.headEnd);
        if (buf.length === 0) return;
        continue;
      }
      this.head = r.head;
      this.pending = undefined;
      break;
    }
    const head = this.head;
    if (
      isRetryableStatus(head.status) &&
      this.mayRetry({ kind: 'response', status: head.status, latencyMs: 0 })
    ) {
      this.detach();
      this.retryAfter({
        kind: 'response',
        status: head.status,
        latencyMs: this.ctx.clock.now() - this.tryStart,
      });
      return;
    }
    const s = this.client.socket;
    s.cork();
    s.write(buf.subarray(0, head.headersStart));
    let at = head.headersStart;
    for (let i = 0; i < head.drop.length; i += 2) {
      if (head.drop[i]! > at) s.write(buf.subarray(at, head.drop[i]!));
      at = head.drop[i + 1]!;
    }
    if (head.headEnd - 2 > at) s.write(buf.subarray(at, head.headEnd - 2));
    s.write(this.replica!.headerBytes(this.service.name, this.variant.tag));
    if (this.closeAfter || head.framing === 'close' || this.ctx.draining()) s.write(CLOSE);
    s.write(CRLF);
    this.sent = true;
    this.remaining = head.length;
    if (head.framing === 'chunked') this.scanner = new ChunkedScanner();
    this.body(buf.subarray(head.headEnd));
    s.uncork();
  }

  /** Relays body bytes until the framing says the answer is complete. */
  private body(data: Buffer): void {
    const head = this.head!;
    let end = data.length;
    let complete = false;
    if (head.framing === 'none') complete = true;
    else if (head.framing === 'length') {
      end = Math.min(this.remaining, data.length);
      this.remaining -= end;
      complete = this.remaining === 0;
    } else if (head.framing === 'chunked') {
      let at: number;
      try {
        at = this.scanner!.scan(data, 0);
      } catch (err) {
        this.broken(err as Error);
        return;
      }
      if (at >= 0) {
        end = at;
        complete = true;
      }
    }
    if (end > 0 && !this.client.socket.write(end === data.length ? data : data.subarray(0, end)))
      this.socket?.pause();
    if (!complete) return;
    // Extra bytes after a complete answer: the connection is out of step, so it is not reused.
    this.complete(head.keepAlive && end === data.length);
  }

  onUpstreamDrain(): void {}

  onUpstreamClose(error: Error | undefined): void {
    if (this.done) return;
    const s = this.socket;
    this.socket = undefined;
    if (
      s?.reused &&
      !this.head &&
      this.pending === undefined &&
      this.mayRetry({ kind: 'reset', latencyMs: 0 }, false)
    ) {
      // An idle connection the replica closed just as it was reused says nothing about the
      // replica's health: tried again, and not counted against it. Nor against the retry budget:
      // no replica is still working on the request (the replica never read it, or died with it).
      // The retry still goes to another replica while one is left: a killed replica closes all
      // its pooled connections at once, and trying it again could spend every retry on them.
      this.retryAfter({ kind: 'cancelled', latencyMs: this.ctx.clock.now() - this.tryStart });
      return;
    }
    if (this.head?.framing === 'close') {
      this.complete(false);
      return;
    }
    if (this.sent) {
      this.broken(error ?? new Error('replica closed the connection mid-answer'));
      return;
    }
    const err =
      error ?? Object.assign(new Error('replica closed the connection'), { code: 'UND_ERR_SOCKET' });
    this.tryFailed(classify(err, this.ctx.clock.now() - this.tryStart), err.message);
  }

  private complete(reusable: boolean): void {
    const s = this.socket;
    this.socket = undefined;
    if (s) this.replica!.sockets.release(s, reusable);
    const status = this.head!.status;
    this.endTry({ kind: 'response', status, latencyMs: this.ctx.clock.now() - this.tryStart });
    this.finish(status >= 500);
    this.client.callDone(!this.closeAfter && this.head!.framing !== 'close' && !this.ctx.draining());
  }

  /** The answer broke after its head went out: the client must see the break. */
  private broken(err: Error): void {
    this.detach();
    this.endTry({ kind: 'reset', latencyMs: this.ctx.clock.now() - this.tryStart });
    this.client.socket.destroy(err);
    this.finish(true);
  }

  /** Whether to try again after `outcome`; takes the budget slot the retry needs, if any. */
  private mayRetry(outcome: Outcome, charged?: boolean): boolean {
    const claim = claimRetry(
      outcome,
      {
        retries: this.retries,
        maxRetries: this.service.spec.retry.maxRetries,
        replayable: true,
        remainingMs: this.deadline - this.ctx.clock.now(),
      },
      this.service.budget,
      charged,
    );
    if (claim === 'slot') this.slotTaken = true;
    return claim !== 'no';
  }

  /** Retries after `outcome` on another replica while one is left (`mayRetry` said yes). */
  private retryAfter(outcome: Outcome): void {
    this.endTry(outcome);
    this.slotHeld = this.slotTaken;
    this.slotTaken = false;
    this.retries++;
    this.attempted ??= [];
    this.attempted.push(this.replica!);
    this.ctx.retried(this.service.name);
    this.tryNext();
  }

  private tryFailed(outcome: Outcome, message?: string): void {
    if (this.done) return;
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
            `replica ${id} did not answer within ${this.service.spec.timeouts.perTryMs} ms`,
          )
        : new UpstreamError('FLT_UPSTREAM_FAILED', `replica ${id} failed: ${message ?? outcome.kind}`),
    );
  }

  private endTry(outcome: Outcome): void {
    recordTryEnd(this.variant, this.replica!, outcome);
    if (this.slotHeld) {
      this.service.budget.retryEnded();
      this.slotHeld = false;
    }
  }

  /** Lets go of the upstream socket without reusing it. */
  private detach(): void {
    const s = this.socket;
    this.socket = undefined;
    if (s) this.replica!.sockets.release(s, false);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, at - this.ctx.clock.now()));
  }

  private onTimer(): void {
    if (this.done) return;
    const now = this.ctx.clock.now();
    if (now >= this.deadline) {
      this.detach();
      this.endTry({ kind: 'timeout', latencyMs: now - this.tryStart });
      if (this.sent) {
        this.client.socket.destroy();
        this.finish(true);
      } else
        this.fail(
          new UpstreamError(
            'FLT_UPSTREAM_TIMEOUT',
            `no answer within ${this.service.spec.timeouts.totalMs} ms`,
          ),
        );
      return;
    }
    if (!this.head) {
      if (now >= this.tryDeadline) {
        this.detach();
        this.tryFailed({ kind: 'timeout', latencyMs: now - this.tryStart });
      } else this.arm(this.tryDeadline);
      return;
    }
    // Timers may fire a little early by this clock: re-armed until the deadline has passed.
    this.arm(this.deadline);
  }

  private fail(err: FlotillaError): void {
    this.client.socket.write(
      errorResponse(err, this.service.name, this.variant.tag, this.replica?.id, this.closeAfter),
    );
    this.finish(true);
    this.client.callDone(!this.closeAfter && !this.ctx.draining());
  }

  private finish(failed: boolean): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    // A retry that found no replica to run on still holds its budget slot.
    if (this.slotHeld || this.slotTaken) this.service.budget.retryEnded();
    this.slotHeld = false;
    this.slotTaken = false;
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
