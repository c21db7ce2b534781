/** How one request ended, as the recorder needs it. */
export interface Outcome {
  readonly ok: boolean;
  /** Why it failed (status and the server's message, or the connection error). */
  readonly error?: string;
  /** `x-flotilla-variant` / `x-flotilla-replica` of the answer, when a gateway set them. */
  readonly variant?: string;
  readonly replica?: string;
  /** Labeled rows checked, and how many the model got right (dataset runs only). */
  readonly labeled?: number;
  readonly correct?: number;
}

/** Called exactly once per request, never synchronously from `send`. */
export type OutcomeCallback = (outcome: Outcome) => void;

/**
 * One endpoint speaking one protocol, with every payload already encoded: `send(i)` sends payload
 * `i` as is. Implementations: HttpTarget (OIP JSON/binary, TF Serving, Paddle), GrpcTarget.
 */
export interface Target {
  /** What to call the endpoint in reports (its URL or address). */
  readonly name: string;
  send(payload: number, done: OutcomeCallback): void;
  close(): Promise<void>;
}

/** Response header naming the gateway variant (tag) that answered. */
export const VARIANT_HEADER = 'x-flotilla-variant';
/** Response header naming the gateway replica that answered. */
export const REPLICA_HEADER = 'x-flotilla-replica';
