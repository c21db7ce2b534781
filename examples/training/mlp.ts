/**
 * A minimal fully connected network (dense layers, ReLU between them, softmax at the end) in plain
 * Float32Array maths: initialisation, the forward pass and the gradient of the cross-entropy loss.
 * Batches are row-major `[batch, features]` arrays. The optimisers live in `optimizers.ts`.
 */
import { gaussian, type Rng } from './random.js';

/**
 * One dense layer `y = x · W + b`. `weight` is row-major `[inputs, outputs]`, the layout ONNX `MatMul(x, W)`
 * expects, so the exporter can write it out unchanged.
 */
export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  /** Whether ReLU follows this layer (every layer but the last; the last feeds the softmax). */
  readonly relu: boolean;
}

/** A stack of dense layers ending in a softmax over the last layer's outputs. */
export interface Network {
  readonly layers: readonly DenseLayer[];
}

/**
 * Creates a network with the given layer widths, e.g. `[784, 10]` (logistic regression) or `[784, 128, 10]`.
 * Weights are drawn from `rng`, biases start at zero.
 */
export function createNetwork(sizes: readonly number[], rng: Rng): Network {
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l] ?? 0;
    const outputs = sizes[l + 1] ?? 0;
    const relu = l + 2 < sizes.length;
    // He initialisation keeps the variance of ReLU activations roughly constant from layer to layer; the
    // softmax layer gets the smaller LeCun scale so the initial predictions are close to uniform.
    const scale = Math.sqrt((relu ? 2 : 1) / inputs);
    const weight = new Float32Array(inputs * outputs);
    for (let i = 0; i < weight.length; i++) weight[i] = gaussian(rng) * scale;
    layers.push({ inputs, outputs, weight, bias: new Float32Array(outputs), relu });
  }
  return { layers };
}

/** Computes `x · W + b` (then ReLU if the layer has it) for a batch of `batch` rows. */
function denseForward(layer: DenseLayer, input: Float32Array, batch: number): Float32Array {
  const { inputs, outputs, weight, bias } = layer;
  const out = new Float32Array(batch * outputs);
  for (let s = 0; s < batch; s++) {
    const row = s * outputs;
    out.set(bias, row);
    for (let i = 0; i < inputs; i++) {
      const x = input[s * inputs + i] ?? 0;
      // About 80% of MNIST pixels and half of the ReLU outputs are exactly zero: skipping them is the main
      // reason training fits in seconds without a BLAS.
      if (x === 0) continue;
      const w = i * outputs;
      for (let j = 0; j < outputs; j++) out[row + j] = (out[row + j] ?? 0) + x * (weight[w + j] ?? 0);
    }
    if (layer.relu) {
      for (let j = row; j < row + outputs; j++) if ((out[j] ?? 0) < 0) out[j] = 0;
    }
  }
  return out;
}

/** Replaces each row of `logits` by its softmax, in place. */
function softmaxRows(logits: Float32Array, batch: number, classes: number): void {
  for (let s = 0; s < batch; s++) {
    const row = s * classes;
    // Subtracting the row maximum keeps exp() from overflowing without changing the result.
    let max = Number.NEGATIVE_INFINITY;
    for (let j = row; j < row + classes; j++) max = Math.max(max, logits[j] ?? 0);
    let sum = 0;
    for (let j = row; j < row + classes; j++) {
      const e = Math.exp((logits[j] ?? 0) - max);
      logits[j] = e;
      sum += e;
    }
    for (let j = row; j < row + classes; j++) logits[j] = (logits[j] ?? 0) / sum;
  }
}

/**
 * Runs a batch through the network. Returns every layer's input followed by the softmax probabilities:
 * `[input, hidden1, …, probs]`, as the backward pass needs them.
 */
export function forward(network: Network, input: Float32Array, batch: number): Float32Array[] {
  const activations = [input];
  let current = input;
  for (const layer of network.layers) {
    current = denseForward(layer, current, batch);
    activations.push(current);
  }
  const last = network.layers.at(-1);
  if (last !== undefined) softmaxRows(current, batch, last.outputs);
  return activations;
}

/** Returns the softmax probabilities, `[batch, classes]`, for a batch of inputs. */
export function predict(network: Network, input: Float32Array, batch: number): Float32Array {
  const activations = forward(network, input, batch);
  return activations.at(-1) ?? new Float32Array(0);
}

/** Index of the largest of `values[offset .. offset + count)`: the predicted class of one row. */
export function argmax(values: Float32Array, offset: number, count: number): number {
  let best = 0;
  for (let j = 1; j < count; j++) if ((values[offset + j] ?? 0) > (values[offset + best] ?? 0)) best = j;
  return best;
}

/** Gradient of the loss with respect to one layer's parameters. */
export interface LayerGradient {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/**
 * Back-propagates the mean cross-entropy loss of a batch whose forward pass produced `activations`.
 * Returns the loss and one gradient per layer.
 */
export function backward(
  network: Network,
  activations: readonly Float32Array[],
  labels: Uint8Array,
  batch: number,
): { loss: number; gradients: LayerGradient[] } {
  const layers = network.layers;
  const probs = activations[layers.length];
  const classes = layers.at(-1)?.outputs ?? 0;
  if (probs === undefined) throw new Error('activations do not match the network');

  // For softmax followed by cross-entropy, d loss / d logits is simply (probs - one_hot) / batch.
  let delta = Float32Array.from(probs);
  let loss = 0;
  for (let s = 0; s < batch; s++) {
    const target = s * classes + (labels[s] ?? 0);
    // The floor keeps log() finite if a probability underflows to zero.
    loss -= Math.log(Math.max(probs[target] ?? 0, 1e-12));
    delta[target] = (delta[target] ?? 0) - 1;
  }
  for (let k = 0; k < delta.length; k++) delta[k] = (delta[k] ?? 0) / batch;

  const gradients: LayerGradient[] = new Array(layers.length);
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const input = activations[l];
    if (layer === undefined || input === undefined) throw new Error('activations do not match the network');
    const { inputs, outputs, weight } = layer;
    const gradWeight = new Float32Array(inputs * outputs);
    const gradBias = new Float32Array(outputs);
    for (let s = 0; s < batch; s++) {
      const row = s * outputs;
      for (let j = 0; j < outputs; j++) gradBias[j] = (gradBias[j] ?? 0) + (delta[row + j] ?? 0);
      for (let i = 0; i < inputs; i++) {
        const x = input[s * inputs + i] ?? 0;
        if (x === 0) continue;
        const w = i * outputs;
        for (let j = 0; j < outputs; j++)
          gradWeight[w + j] = (gradWeight[w + j] ?? 0) + x * (delta[row + j] ?? 0);
      }
    }
    gradients[l] = { weight: gradWeight, bias: gradBias };

    if (l > 0) {
      // Propagate to the previous layer's output. That output went through ReLU, so wherever it is zero the
      // derivative is zero too and the dot product can be skipped.
      const previous = new Float32Array(batch * inputs);
      for (let s = 0; s < batch; s++) {
        const row = s * outputs;
        for (let i = 0; i < inputs; i++) {
          if ((input[s * inputs + i] ?? 0) <= 0) continue;
          const w = i * outputs;
          let sum = 0;
          for (let j = 0; j < outputs; j++) sum += (weight[w + j] ?? 0) * (delta[row + j] ?? 0);
          previous[s * inputs + i] = sum;
        }
      }
      delta = previous;
    }
  }
  return { loss: loss / batch, gradients };
}
