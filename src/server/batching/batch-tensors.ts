import { elementCount, InternalError, type Tensor, TYPED_ARRAY } from '../../core/index.js';

/** Requests may join a batch only when every input matches in datatype and trailing dimensions. */
export function batchKey(inputs: readonly Tensor[]): string {
  return inputs.map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`).join('|');
}

/** Joins the requests' inputs along dimension 0 (all requests share `batchKey`). */
export function concatInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  const first = requests[0]!;
  if (requests.length === 1) return [...first];
  return first.map((t, i) => {
    const parts = requests.map((r) => r[i]!);
    const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
    const shape = [rows, ...t.shape.slice(1)];
    if (t.datatype === 'BYTES') {
      return {
        name: t.name,
        datatype: t.datatype,
        shape,
        data: parts.flatMap((p) => p.data as Uint8Array[]),
      };
    }
    const data = new TYPED_ARRAY[t.datatype](elementCount(shape));
    let offset = 0;
    for (const p of parts) {
      (data as Float32Array).set(p.data as Float32Array, offset);
      offset += p.data.length;
    }
    return { name: t.name, datatype: t.datatype, shape, data } as Tensor;
  });
}

/** Splits batched outputs back into one list per request, by each request's batch size. */
export function splitOutputs(outputs: readonly Tensor[], sizes: readonly number[]): Tensor[][] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.length === 1 && outputs.every((t) => t.shape[0] === total)) return [[...outputs]];
  const result: Tensor[][] = sizes.map(() => []);
  for (const t of outputs) {
    if (t.shape[0] !== total) {
      throw new InternalError(
        'FLT_INFERENCE_FAILED',
        `output "${t.name}" has first dimension ${t.shape[0]} for a batch of ${total}: the model does not batch along dimension 0`,
      );
    }
    const rowSize = elementCount(t.shape.slice(1));
    let row = 0;
    sizes.forEach((size, i) => {
      const shape = [size, ...t.shape.slice(1)];
      const data = t.data.slice(row * rowSize, (row + size) * rowSize);
      result[i]!.push({ name: t.name, datatype: t.datatype, shape, data } as Tensor);
      row += size;
    });
  }
  return result;
}
