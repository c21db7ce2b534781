import { parentPort } from 'node:worker_threads';
import type { Tensor, TensorSpec } from '../../core/index.js';
import { type FromWorker, type ToWorker, transferList, type WireError } from './worker-protocol.js';

/** One model instance inside a worker thread. */
export interface Instance {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  run(inputs: readonly Tensor[], outputs: readonly string[]): Promise<readonly Tensor[]>;
  /** How long a batch-1 run took when the instance timed one at load. */
  readonly runMs?: number;
}

function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { message: err.message, code } : { message: err.message };
  }
  return { message: String(err) };
}

function port(): NonNullable<typeof parentPort> {
  if (!parentPort) throw new Error('a model runner must run in a worker thread');
  return parentPort;
}

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port().postMessage(msg, transfer);
}

type CallReply = { resolve: (t: readonly Tensor[]) => void; reject: (e: Error) => void };
const pendingCalls = new Map<number, CallReply>();
let nextCallId = 1;

/** Asks the main thread to run another model of the server (for pipelines). */
export function callModel(
  model: string,
  version: string | undefined,
  inputs: readonly Tensor[],
  outputs: readonly string[] | undefined,
): Promise<readonly Tensor[]> {
  return new Promise((resolve, reject) => {
    const callId = nextCallId++;
    pendingCalls.set(callId, { resolve, reject });
    // Copied, not transferred: the pipeline's code may keep using its tensors.
    post({ type: 'call', callId, model, version, inputs, outputs });
  });
}

/**
 * Runs the worker side of the pool protocol: loads the instance, reports ready (or the load
 * error), then executes one job at a time as the pool sends them.
 */
export function hostInstance(load: () => Promise<Instance>): void {
  const p = port();
  load().then(
    (instance) => {
      p.on('message', (msg: ToWorker) => {
        if (msg.type === 'execute') {
          const start = performance.now();
          instance.run(msg.inputs, msg.outputs).then(
            (outputs) => {
              const { tensors, transfer } = transferList(outputs);
              post(
                { type: 'result', id: msg.id, outputs: tensors, computeMs: performance.now() - start },
                transfer,
              );
            },
            (err: unknown) => post({ type: 'error', id: msg.id, error: toWire(err) }),
          );
        } else {
          const reply = pendingCalls.get(msg.callId);
          pendingCalls.delete(msg.callId);
          if (msg.type === 'call-result') reply?.resolve(msg.outputs);
          else {
            const err = Object.assign(new Error(msg.error.message), { code: msg.error.code });
            reply?.reject(err);
          }
        }
      });
      post({
        type: 'ready',
        inputs: instance.inputs,
        outputs: instance.outputs,
        ...(instance.runMs !== undefined ? { runMs: instance.runMs } : {}),
      });
    },
    (err: unknown) => post({ type: 'load-failed', error: toWire(err) }),
  );
}
