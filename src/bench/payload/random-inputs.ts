import type { Random } from '../../core/index.js';
import {
  type Datatype,
  elementCount,
  type Tensor,
  type TensorSpec,
  TYPED_ARRAY,
  toHalfBits,
} from '../../core/index.js';
import { BenchArgumentError } from '../errors.js';

/**
 * The concrete shape to send for an input: the override from `--shape` when given (it must fit the
 * model's shape, -1 matching any size), else the model's shape with every -1 as 1.
 */
export function concreteShape(spec: TensorSpec, override: readonly number[] | undefined): number[] {
  if (!override) return spec.shape.map((d) => (d < 0 ? 1 : d));
  const fits =
    override.length === spec.shape.length &&
    override.every((d, i) => spec.shape[i]! < 0 || spec.shape[i] === d);
  if (!fits)
    throw new BenchArgumentError(
      `--shape ${spec.name}:${override.join(',')}: the model's input "${spec.name}" is [${spec.shape.join(',')}] (-1 is any size)`,
    );
  return [...override];
}

function randomData(datatype: Datatype, n: number, random: Random): Tensor['data'] {
  switch (datatype) {
    case 'BYTES':
      return Array.from({ length: n }, () => Buffer.from(Math.floor(random.next() * 1e9).toString(36)));
    case 'BOOL':
      return Uint8Array.from({ length: n }, () => (random.next() < 0.5 ? 1 : 0));
    case 'FP16':
      return Uint16Array.from({ length: n }, () => toHalfBits(random.next()));
    case 'FP32':
    case 'FP64': {
      const out = new TYPED_ARRAY[datatype](n);
      for (let i = 0; i < n; i++) out[i] = random.next();
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = new TYPED_ARRAY[datatype](n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.floor(random.next() * 100));
      return out;
    }
    default: {
      // Small non-negative integers fit every integer type and make sense as ids or pixels.
      const out = new TYPED_ARRAY[datatype](n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(random.next() * 100);
      return out;
    }
  }
}

/** Random tensors of the right shape and datatype for every model input (floats in [0, 1)). */
export function randomInputs(
  specs: readonly TensorSpec[],
  shapes: ReadonlyMap<string, readonly number[]>,
  random: Random,
): Tensor[] {
  for (const name of shapes.keys()) {
    if (!specs.some((s) => s.name === name))
      throw new BenchArgumentError(
        `--shape ${name}: not an input of the model (inputs: ${specs.map((s) => s.name).join(', ')})`,
      );
  }
  return specs.map((spec) => {
    const shape = concreteShape(spec, shapes.get(spec.name));
    return {
      name: spec.name,
      datatype: spec.datatype,
      shape,
      data: randomData(spec.datatype, elementCount(shape), random),
    } as Tensor;
  });
}
