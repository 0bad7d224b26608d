// Kernels of the training step that are not plain algebra: the softmax cross-entropy loss and its
// gradient, and the optimizers' update rules (one pass over a parameter and its slots).

import { defineKernel, KernelError } from "../kernel.ts";
import type { TypedArray } from "../dtype.ts";

/** A learning rate read from its tensor: a finite number >= 0, or a KernelError naming the update. */
export const checkedRate = (who: string, lr: number): number => {
  if (!(Number.isFinite(lr) && lr >= 0)) throw new KernelError(`${who}: the learning rate is ${lr} (expected a finite number >= 0): check the schedule`);
  return lr;
};

interface Classes {
  readonly batch: number;
  readonly classes: number;
}

const checkLabel = (labels: TypedArray, b: number, classes: number): number => {
  const y = labels[b]!;
  if (!(y >= 0 && y < classes)) throw new KernelError(`softmaxCrossEntropy: label ${y} at position ${b} is out of range for ${classes} classes (expected 0..${classes - 1})`);
  return y;
};

/**
 * The mean over the batch of logSumExp(z_b) - z_b[y_b], in double precision, and softmax(z) (the
 * residual the gradient needs: each exponential is taken once). Per row, with m its maximum:
 * p_j = e^(z_j - m) / sum_i e^(z_i - m), and logSumExp = m + log(sum_i e^(z_i - m)).
 */
export const softmaxCrossEntropy = defineKernel<Classes>({
  name: "softmaxCrossEntropy",
  outputs: (inputs, { batch, classes }) => [{ dtype: inputs[0]!.dtype, size: 1 }, { dtype: "float64", size: batch * classes }],
  run: ([z, labels], [loss, p], { batch, classes }) => {
    let total = 0;
    for (let b = 0; b < batch; b++) {
      const o = b * classes;
      let m = -Infinity;
      for (let j = 0; j < classes; j++) if (z![o + j]! > m) m = z![o + j]!;
      let s = 0;
      for (let j = 0; j < classes; j++) s += p![o + j] = Math.exp(z![o + j]! - m);
      for (let j = 0; j < classes; j++) p![o + j]! /= s;
      total += m + Math.log(s) - z![o + checkLabel(labels!, b, classes)]!;
    }
    loss![0] = total / batch;
  },
  show: ({ batch, classes }) => `${batch}x${classes}`,
});

/** dL/dz = (softmax(z) - oneHot(y)) * g / batch, from the forward's softmax. */
export const softmaxCrossEntropyGrad = defineKernel<Classes>({
  name: "softmaxCrossEntropyGrad",
  outputs: (inputs) => [{ dtype: inputs[2]!.dtype, size: inputs[0]!.size }],
  run: ([p, labels, g], [dz], { batch, classes }) => {
    const scale = g![0]! / batch;
    for (let i = 0; i < p!.length; i++) dz![i] = p![i]! * scale;
    for (let b = 0; b < batch; b++) {
      const at = b * classes + checkLabel(labels!, b, classes);
      dz![at] = dz![at]! - scale;
    }
  },
  show: ({ batch, classes }) => `${batch}x${classes}`,
});

/**
 * Gradient descent: p' = p - lr * (g + decay * p). For float32, every operation is rounded to
 * float32 (lr and decay first), as PyTorch's float32 SGD computes it; for float64, none is.
 */
export const sgdUpdate = defineKernel<{ readonly decay: number }>({
  name: "sgdUpdate",
  outputs: (inputs) => [inputs[0]!],
  run: ([p, g, lr], [out], { decay }) => {
    const rate = checkedRate("sgdUpdate", lr![0]!);
    if (!(out instanceof Float32Array)) {
      for (let i = 0; i < p!.length; i++) out![i] = p![i]! - rate * (g![i]! + decay * p![i]!);
      return;
    }
    const f = Math.fround;
    const lr32 = f(rate);
    const decay32 = f(decay);
    for (let i = 0; i < p!.length; i++) out[i] = p![i]! - f(lr32 * f(g![i]! + f(decay32 * p![i]!)));
  },
  inPlace: [0],
  show: ({ decay }) => (decay ? `decay=${decay}` : ""),
});

/**
 * Heavy-ball momentum in PyTorch's form, in double precision (each result rounded once when stored):
 *   v' = mu v + g;   p' = p - lr (v' + decay p)   (or p - lr (g + mu v' + decay p) with nesterov).
 */
export const momentumUpdate = defineKernel<{ readonly mu: number; readonly nesterov: boolean; readonly decay: number }>({
  name: "momentumUpdate",
  outputs: (inputs) => [inputs[0]!, inputs[0]!],
  run: ([p, g, v, lr], [pOut, vOut], { mu, nesterov, decay }) => {
    const rate = checkedRate("momentumUpdate", lr![0]!);
    for (let i = 0; i < p!.length; i++) {
      const vi = mu * v![i]! + g![i]!;
      vOut![i] = vi;
      pOut![i] = p![i]! - rate * ((nesterov ? g![i]! + mu * vi : vi) + decay * p![i]!);
    }
  },
  inPlace: [0, 2],
  show: ({ mu, nesterov, decay }) => `mu=${mu}${nesterov ? " nesterov" : ""}${decay ? ` decay=${decay}` : ""}`,
});

/**
 * Adam (Kingma & Ba, 2015) with bias correction at step t (1 for the first update) and decoupled
 * weight decay, in double precision (each result rounded once when stored):
 *   m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2;  p' = p - lr (m'/(1-b1^t) / (sqrt(v'/(1-b2^t)) + eps) + decay p).
 */
export const adamUpdate = defineKernel<{ readonly beta1: number; readonly beta2: number; readonly eps: number; readonly decay: number }>({
  name: "adamUpdate",
  outputs: (inputs) => [inputs[0]!, inputs[0]!, inputs[0]!],
  run: ([p, g, m, v, lr, t], [pOut, mOut, vOut], { beta1, beta2, eps, decay }) => {
    const rate = checkedRate("adamUpdate", lr![0]!);
    const c1 = 1 / (1 - beta1 ** t![0]!);
    const c2 = 1 / (1 - beta2 ** t![0]!);
    for (let i = 0; i < p!.length; i++) {
      const gi = g![i]!;
      const mi = beta1 * m![i]! + (1 - beta1) * gi;
      const vi = beta2 * v![i]! + (1 - beta2) * gi * gi;
      mOut![i] = mi;
      vOut![i] = vi;
      pOut![i] = p![i]! - rate * ((mi * c1) / (Math.sqrt(vi * c2) + eps) + decay * p![i]!);
    }
  },
  inPlace: [0, 2, 3],
  show: ({ beta1, beta2, eps, decay }) => `beta1=${beta1} beta2=${beta2} eps=${eps}${decay ? ` decay=${decay}` : ""}`,
});
