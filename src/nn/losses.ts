// Softmax, its logarithm, and the cross-entropy loss on integer labels. Each is a composition of
// autograd ops first; softmaxCrossEntropy is the fused version used for training, proved equal to
// the composition (value and gradient) in spec/nn/losses.spec.ts.

import {
  arange, cast, defineOp, div, equal, exp, logSumExp, max, mean, mul, reshape, run, run1, ShapeError, shapeStr, stopGradient, sub, sum,
  takeAlongAxis, Tensor, tensor, kernels, type DType,
} from "../autograd/index.ts";

/**
 * Check integer class labels: one per example, each an integer in [0, classes).
 * Throws a RangeError naming the first bad label and its position.
 */
export const checkLabels = (who: string, labels: ArrayLike<number>, classes: number, batch?: number): Int32Array => {
  if (batch !== undefined && labels.length !== batch) {
    throw new ShapeError(`${who}: ${labels.length} labels for a batch of ${batch} examples (expected one label per example)`);
  }
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y)) throw new RangeError(`${who}: label ${y} at position ${i} is not an integer class index`);
    if (y < 0 || y >= classes) throw new RangeError(`${who}: label ${y} at position ${i} is out of range for ${classes} classes (expected 0..${classes - 1})`);
    out[i] = y;
  }
  return out;
};

const checkLogits = (who: string, logits: Tensor): { batch: number; classes: number } => {
  if (logits.rank !== 2 || logits.shape[0] === 0 || logits.shape[1] === 0) {
    throw new ShapeError(`${who}: expected logits of shape [batch, classes] with at least one example and one class, got ${shapeStr(logits.shape)}`);
  }
  return { batch: logits.shape[0]!, classes: logits.shape[1]! };
};

/**
 * softmax(z)_i = e^(z_i - m) / sum_j e^(z_j - m), with m = max_j z_j. Subtracting m changes nothing
 * (the e^-m cancels) but keeps every exponent <= 0, so nothing overflows; m is held constant for
 * differentiation for the same reason.
 * NOTE: for gaps over ~745 (float64) or ~104 (float32) an entry underflows to exactly 0; the
 * largest entry is always >= 1/classes.
 */
export const softmax = (logits: Tensor, axis = -1): Tensor => {
  const e = exp(sub(logits, stopGradient(max(logits, axis, true))));
  return div(e, sum(e, axis, true));
};

/** log softmax(z)_i = z_i - logSumExp(z): exact in log space, no log of a rounded-to-0 probability, no epsilon. */
export const logSoftmax = (logits: Tensor, axis = -1): Tensor => sub(logits, logSumExp(logits, axis, true));

/** Labels as a tensor of integers, one per example: given as one (checked by the kernels that read them), or checked and copied. */
export const labelTensor = (who: string, labels: ArrayLike<number> | Tensor, classes: number, batch?: number): Tensor => {
  if (!(labels instanceof Tensor)) return tensor(checkLabels(who, labels, classes, batch), [labels.length], "int32");
  if (labels.rank !== 1 || (batch !== undefined && labels.size !== batch)) {
    throw new ShapeError(`${who}: labels of shape ${shapeStr(labels.shape)} for a batch of ${batch} examples (expected one label per example)`);
  }
  if (labels.dtype !== "int32" && labels.dtype !== "uint8" && labels.dtype !== "uint32") {
    throw new ShapeError(`${who}: labels must be integers (an int32, uint32 or uint8 tensor), got ${labels.dtype}`);
  }
  return labels;
};

/** Rows of the identity: oneHot([2, 0], 3) = [[0, 0, 1], [1, 0, 0]]. */
export const oneHot = (labels: ArrayLike<number> | Tensor, classes: number, dtype: DType = "float32"): Tensor => {
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`oneHot: classes must be a positive integer, got ${classes}`);
  const ys = labelTensor("oneHot", labels, classes);
  return equal(reshape(cast(ys, dtype), [ys.size, 1]), arange(classes, undefined, 1, dtype));
};

/**
 * Mean cross-entropy of integer labels under softmax(logits):
 * L = (1/B) sum_b -log softmax(z_b)[y_b] = (1/B) sum_b (logSumExp(z_b) - z_b[y_b]).
 * The composition of autograd ops; see softmaxCrossEntropy for the fused equivalent.
 */
export const crossEntropy = (logits: Tensor, labels: ArrayLike<number> | Tensor): Tensor => {
  const { batch, classes } = checkLogits("crossEntropy", logits);
  const ys = labelTensor("crossEntropy", labels, classes, batch);
  return mean(sub(logSumExp(logits, -1), takeAlongAxis(logits, ys, -1)));
};

interface Classes {
  readonly batch: number;
  readonly classes: number;
}

const softmaxCrossEntropyOp = defineOp<Classes>({
  name: "softmaxCrossEntropy",
  mixedDtypes: true,
  // One kernel: the loss, and softmax(z) kept for the vjp (each exponential is taken once).
  forward: ([logits, labels], p) => {
    const [loss, probabilities] = run(kernels.softmaxCrossEntropy, [logits!, labels!], p, [[], [p.batch, p.classes]]);
    return { out: loss!, saved: [probabilities!] };
  },
  // dL/dz_bj = (softmax(z_b)_j - [j = y_b]) / B, times the incoming scalar cotangent g. For a
  // higher-order gradient (z tracked) it is built from ops, so that it can be differentiated again.
  vjp: (g, { inputs: [z, labels], saved: [probabilities], attrs }) => [
    z!.tracked
      ? mul(sub(softmax(z!), oneHot(labels!, attrs.classes, z!.dtype)), div(g, attrs.batch))
      : run1(kernels.softmaxCrossEntropyGrad, [probabilities!, labels!, g], attrs, z!.shape),
    null,
  ],
});

/**
 * crossEntropy fused into one op: the same value, and the gradient (softmax - oneHot(y)) / B
 * written out directly instead of flowing back through logSumExp, sub, takeAlongAxis and mean.
 * Use it for training; crossEntropy is the readable definition it is checked against.
 */
export const softmaxCrossEntropy = (logits: Tensor, labels: ArrayLike<number> | Tensor): Tensor => {
  const { batch, classes } = checkLogits("softmaxCrossEntropy", logits);
  return softmaxCrossEntropyOp([logits, labelTensor("softmaxCrossEntropy", labels, classes, batch)], { batch, classes });
};
