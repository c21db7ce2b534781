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
import type { InputSpec } from './payload.js';

const fits = (spec: TensorSpec, shape: readonly number[]): boolean =>
  shape.length === spec.shape.length && shape.every((d, i) => spec.shape[i]! < 0 || spec.shape[i] === d);

/**
 * The concrete shape to send for an input: the override from `--shape` when given (it must fit the
 * model's shape, -1 matching any size); else the model's shape when only its first (batch)
 * dimension is free, as a batch of one; else the typical shape the model's config declares. An
 * input with other free dimensions and no typical shape is refused: filling them with 1 (a 1×1
 * image) measures a model doing almost nothing.
 */
export function concreteShape(spec: InputSpec, override: readonly number[] | undefined): number[] {
  if (!override) {
    if (spec.shape.slice(1).every((d) => d >= 0)) return spec.shape.map((d) => (d < 0 ? 1 : d));
    if (spec.typicalShape && fits(spec, spec.typicalShape)) return [...spec.typicalShape];
    throw new BenchArgumentError(
      `input "${spec.name}" has free dimensions [${spec.shape.join(',')}] and the model declares no typical_shapes: give one with --shape ${spec.name}:${spec.shape.map((d) => (d < 0 ? 'N' : d)).join(',')}`,
    );
  }
  if (!fits(spec, override))
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
  specs: readonly InputSpec[],
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
