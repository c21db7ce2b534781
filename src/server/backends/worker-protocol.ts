import type { Tensor, TensorSpec } from '../../core/index.js';

/** Messages between the main thread and a model instance's worker thread. */

export type ToWorker =
  | {
      readonly type: 'execute';
      readonly id: number;
      readonly inputs: readonly Tensor[];
      readonly outputs: readonly string[];
    }
  | { readonly type: 'call-result'; readonly callId: number; readonly outputs: readonly Tensor[] }
  | { readonly type: 'call-error'; readonly callId: number; readonly error: WireError };

export type FromWorker =
  | {
      readonly type: 'ready';
      readonly inputs: readonly TensorSpec[];
      readonly outputs: readonly TensorSpec[];
      readonly runMs?: number;
    }
  | { readonly type: 'load-failed'; readonly error: WireError }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly outputs: readonly Tensor[];
      readonly computeMs: number;
    }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  | {
      readonly type: 'call';
      readonly callId: number;
      readonly model: string;
      readonly version: string | undefined;
      readonly inputs: readonly Tensor[];
      readonly outputs: readonly string[] | undefined;
    };

/** An error as it crosses threads: class identity is lost, the code is kept. */
export interface WireError {
  readonly message: string;
  readonly code?: string;
}

/**
 * The buffers of numeric tensors, to transfer rather than copy. A typed array that views only
 * part of its buffer (a pooled Buffer, a subarray) is copied first so nothing else is detached.
 */
export function transferList(tensors: readonly Tensor[]): { tensors: Tensor[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const out = tensors.map((t): Tensor => {
    if (t.datatype === 'BYTES') return t;
    let data = t.data;
    if (
      data.byteOffset !== 0 ||
      data.byteLength !== data.buffer.byteLength ||
      !(data.buffer instanceof ArrayBuffer)
    ) {
      data = data.slice() as typeof data;
    }
    if (!transfer.includes(data.buffer as ArrayBuffer)) transfer.push(data.buffer as ArrayBuffer);
    return { ...t, data } as Tensor;
  });
  return { tensors: out, transfer };
}
