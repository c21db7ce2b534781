import { asFlotillaError, type FlotillaError } from '../../core/index.js';
import type { VariantRuntime } from '../runtime/variant-runtime.js';
import type { Release } from './activator.js';

/** What a proxied call offers its admission (every data path's call implements it). */
export interface AdmittedCall {
  /** The call already ended (client gone, deadline passed): a late admission is handed back. */
  readonly finished: boolean;
  /** Capacity was granted: try a replica. */
  admitted(): void;
  /** The activator refused (queue full, timeout): answer 503. */
  refused(err: FlotillaError): void;
}

/** Lets `call` through its admission, or at once when its variant has no activator. */
export function enterAdmission(admission: Admission | undefined, call: AdmittedCall): void {
  if (admission) admission.enter(call);
  else call.admitted();
}

/**
 * One call's passage through its variant's activator: admission (at once when there is capacity,
 * without a promise), the release held until the call ends, and one more wait when the variant's
 * last replica vanished under the call (a crash) before anything was sent. Calls to variants
 * without an activator (static endpoints) have none.
 */
export class Admission {
  private release: Release | undefined;
  private waitedAgain = false;

  private constructor(
    private readonly variant: VariantRuntime,
    private readonly label: string,
  ) {}

  /** An admission for calls to `variant`, or undefined when it has no activator. */
  static for(variant: VariantRuntime, service: string): Admission | undefined {
    return variant.activator ? new Admission(variant, `${service}/${variant.tag}`) : undefined;
  }

  /** Lets the call through once the activator admits it. */
  enter(call: AdmittedCall): void {
    const activator = this.variant.activator;
    if (!activator) {
      call.admitted();
      return;
    }
    const admitted = activator.admit(this.label);
    if (typeof admitted === 'function') {
      this.release = admitted;
      call.admitted();
      return;
    }
    admitted.then(
      (release) => {
        this.release = release;
        if (call.finished) this.leave();
        else call.admitted();
      },
      (err: unknown) => {
        if (!call.finished) call.refused(asFlotillaError(err));
      },
    );
  }

  /**
   * The variant had no replica left: waits at the activator for the restart instead of failing,
   * once per call. False when the call should fail now.
   */
  waitAgain(call: AdmittedCall): boolean {
    if (this.waitedAgain) return false;
    this.waitedAgain = true;
    this.leave();
    this.enter(call);
    return true;
  }

  /** The call ended: its capacity goes to the next waiting request. */
  leave(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
