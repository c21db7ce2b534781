/**
 * Optimisers for the networks of `mlp.ts`: SGD with momentum and Adam, updating Float32Array parameters in
 * place.
 */
import type { LayerGradient, Network } from './mlp.js';

/** Updates a network's parameters in place from their gradients. */
export interface Optimizer {
  step(network: Network, gradients: readonly LayerGradient[]): void;
}

/** Lists parameters and their gradients in a fixed order, so optimiser state lines up between steps. */
function pairs(network: Network, gradients: readonly LayerGradient[]): [Float32Array, Float32Array][] {
  return network.layers.flatMap((layer, l): [Float32Array, Float32Array][] => {
    const gradient = gradients[l];
    if (gradient === undefined) throw new Error(`missing gradient for layer ${l}`);
    return [
      [layer.weight, gradient.weight],
      [layer.bias, gradient.bias],
    ];
  });
}

/** Stochastic gradient descent with (heavy-ball) momentum; `momentum: 0` gives plain SGD. */
export function sgd(options: { learningRate: number; momentum: number }): Optimizer {
  const velocities: Float32Array[] = [];
  return {
    step(network, gradients) {
      pairs(network, gradients).forEach(([param, grad], p) => {
        const velocity = velocities[p] ?? new Float32Array(param.length);
        velocities[p] = velocity;
        for (let k = 0; k < param.length; k++) {
          const v = options.momentum * (velocity[k] ?? 0) - options.learningRate * (grad[k] ?? 0);
          velocity[k] = v;
          param[k] = (param[k] ?? 0) + v;
        }
      });
    },
  };
}

/** Adam (Kingma & Ba, 2015) with the usual bias correction. */
export function adam(options: {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}): Optimizer {
  const { learningRate, beta1, beta2, epsilon } = options;
  const firstMoments: Float32Array[] = [];
  const secondMoments: Float32Array[] = [];
  let t = 0;
  return {
    step(network, gradients) {
      t++;
      // Folding both bias corrections into the step size saves two divisions per parameter.
      const stepSize = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      pairs(network, gradients).forEach(([param, grad], p) => {
        const m = firstMoments[p] ?? new Float32Array(param.length);
        const v = secondMoments[p] ?? new Float32Array(param.length);
        firstMoments[p] = m;
        secondMoments[p] = v;
        for (let k = 0; k < param.length; k++) {
          const g = grad[k] ?? 0;
          const mk = beta1 * (m[k] ?? 0) + (1 - beta1) * g;
          const vk = beta2 * (v[k] ?? 0) + (1 - beta2) * g * g;
          m[k] = mk;
          v[k] = vk;
          param[k] = (param[k] ?? 0) - (stepSize * mk) / (Math.sqrt(vk) + epsilon);
        }
      });
    },
  };
}
