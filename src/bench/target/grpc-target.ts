import type { OipGrpcClient } from '../../client/index.js';
import type { Tensor } from '../../core/index.js';
import {
  decodeModelInferResponse,
  encodeModelInferRequest,
  type ModelInferRequestMessage,
} from '../../protocol/oip-grpc/index.js';
import type { ModelRef } from './protocols.js';
import type { OutcomeCallback, Target } from './target.js';

/** Options of {@link GrpcTarget}. */
export interface GrpcTargetOptions {
  /** `host:port`, or `grpcs://host:port` for gRPC over TLS (the client is built to match). */
  readonly address: string;
  readonly ref: ModelRef;
  readonly payloads: readonly (readonly Tensor[])[];
  readonly check?: (payload: number, outputs: readonly Tensor[]) => { labeled: number; correct: number };
}

/**
 * An OIP v2 gRPC endpoint. Payloads are encoded once as ModelInfer messages with
 * raw_input_contents (what Triton's clients and perf_analyzer send).
 */
export class GrpcTarget implements Target {
  readonly name: string;
  private readonly messages: ModelInferRequestMessage[];

  constructor(
    private readonly options: GrpcTargetOptions,
    private readonly deps: { readonly client: OipGrpcClient },
  ) {
    this.name = options.address.startsWith('grpcs://') ? options.address : `grpc://${options.address}`;
    this.messages = options.payloads.map((inputs) =>
      encodeModelInferRequest(
        {
          model: options.ref.model,
          ...(options.ref.version !== undefined ? { version: options.ref.version } : {}),
          inputs,
        },
        { raw: true },
      ),
    );
  }

  send(payload: number, done: OutcomeCallback): void {
    const check = this.options.check;
    this.deps.client.modelInfer(this.messages[payload]!).then(
      (res) => {
        if (!check) return done({ ok: true });
        try {
          done({ ok: true, ...check(payload, decodeModelInferResponse(res).outputs) });
        } catch (e) {
          done({ ok: false, error: `undecodable answer: ${(e as Error).message}` });
        }
      },
      (err: unknown) => {
        const e = err as { status?: number; code?: string; message?: string };
        done({
          ok: false,
          error: `gRPC ${e.status ?? '?'}${e.code ? ` ${e.code}` : ''}: ${e.message ?? String(err)}`,
        });
      },
    );
  }

  async close(): Promise<void> {
    this.deps.client.close();
  }
}
