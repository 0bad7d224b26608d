// Softmax, its logarithm, and the cross-entropy loss on integer labels. Each is a composition of
// autograd ops first; softmaxCrossEntropy is the fused version used for training, proved equal to
// the composition (value and gradient) in spec/nn/losses.spec.ts.

import {
  defineOp,
  div,
  exp,
  logSumExp,
  max,
  mean,
  ShapeError,
  shapeStr,
  stopGradient,
  sub,
  sum,
  takeAlongAxis,
  Tensor,
  type DType,
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

/** Rows of the identity: oneHot([2, 0], 3) = [[0, 0, 1], [1, 0, 0]]. */
export const oneHot = (labels: ArrayLike<number>, classes: number, dtype: DType = "float32"): Tensor => {
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`oneHot: classes must be a positive integer, got ${classes}`);
  const ys = checkLabels("oneHot", labels, classes);
  const data = dtype === "float64" ? new Float64Array(ys.length * classes) : new Float32Array(ys.length * classes);
  ys.forEach((y, i) => (data[i * classes + y] = 1));
  return new Tensor(data, [ys.length, classes]);
};

/**
 * Mean cross-entropy of integer labels under softmax(logits):
 * L = (1/B) sum_b -log softmax(z_b)[y_b] = (1/B) sum_b (logSumExp(z_b) - z_b[y_b]).
 * The composition of autograd ops; see softmaxCrossEntropy for the fused equivalent.
 */
export const crossEntropy = (logits: Tensor, labels: ArrayLike<number>): Tensor => {
  const { batch, classes } = checkLogits("crossEntropy", logits);
  const ys = checkLabels("crossEntropy", labels, classes, batch);
  return mean(sub(logSumExp(logits, -1), takeAlongAxis(logits, ys, -1)));
};

interface FusedAttrs {
  readonly labels: Int32Array;
  readonly batch: number;
  readonly classes: number;
  /**
   * What the forward pass leaves for the vjp (as JAX's custom_vjp residuals): softmax(z), which the
   * forward computes on the way to the log-sum-exp anyway, so each exponential is taken once.
   */
  readonly saved: { probabilities: Float64Array | null };
}

const alloc = (dtype: DType, n: number) => (dtype === "float64" ? new Float64Array(n) : new Float32Array(n));

/**
 * softmax(z_b) into p at offset (e^(z_bj - m) / sum_j e^(z_bj - m), m the row's maximum, in double
 * precision), and the row's log-sum-exp m + log(sum_j e^(z_bj - m)).
 */
const rowSoftmax = (z: Tensor["data"], p: Float64Array, offset: number, classes: number): number => {
  let m = -Infinity;
  for (let j = 0; j < classes; j++) if (z[offset + j]! > m) m = z[offset + j]!;
  let s = 0;
  for (let j = 0; j < classes; j++) s += p[offset + j] = Math.exp(z[offset + j]! - m);
  for (let j = 0; j < classes; j++) p[offset + j]! /= s;
  return m + Math.log(s);
};

const softmaxCrossEntropyOp = defineOp<FusedAttrs>({
  name: "softmaxCrossEntropy",
  forward: ([logits], { labels, batch, classes, saved }) => {
    const z = logits!.data;
    const probabilities = new Float64Array(z.length);
    let total = 0;
    for (let b = 0; b < batch; b++) total += rowSoftmax(z, probabilities, b * classes, classes) - z[b * classes + labels[b]!]!;
    saved.probabilities = probabilities;
    const out = alloc(logits!.dtype, 1);
    out[0] = total / batch;
    return new Tensor(out, []);
  },
  // dL/dz_bj = (softmax(z_b)_j - [j = y_b]) / B, times the incoming scalar cotangent g.
  vjp: (g, { inputs: [logits], attrs: { labels, batch, classes, saved } }) => {
    const p = saved.probabilities!;
    const scale = g.data[0]! / batch;
    const dz = alloc(logits!.dtype, p.length);
    for (let i = 0; i < p.length; i++) dz[i] = p[i]! * scale;
    for (let b = 0; b < batch; b++) dz[b * classes + labels[b]!] = dz[b * classes + labels[b]!]! - scale;
    return [new Tensor(dz, logits!.shape)];
  },
});

/**
 * crossEntropy fused into one op: the same value, and the gradient (softmax - oneHot(y)) / B
 * written out directly instead of flowing back through logSumExp, sub, takeAlongAxis and mean.
 * Use it for training; crossEntropy is the readable definition it is checked against.
 */
export const softmaxCrossEntropy = (logits: Tensor, labels: ArrayLike<number>): Tensor => {
  const { batch, classes } = checkLogits("softmaxCrossEntropy", logits);
  return softmaxCrossEntropyOp([logits], { labels: checkLabels("softmaxCrossEntropy", labels, classes, batch), batch, classes, saved: { probabilities: null } });
};
