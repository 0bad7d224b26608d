// Looking inside a trained classifier: numbers the visualize app prints and draws. Plain functions
// of a confusion matrix (rows = truth, columns = prediction), of weight matrices, and of predicted
// probabilities.

import { ShapeError, shapeStr, type Tensor } from "../autograd/index.ts";
import { precisionRecall } from "./metrics.ts";

const checkSquare = (who: string, counts: readonly (readonly number[])[]): number => {
  const n = counts.length;
  if (n === 0 || counts.some((row) => row.length !== n)) throw new RangeError(`${who}: expected a square, non-empty confusion matrix, got ${n} rows of lengths ${counts.map((r) => r.length).join(", ")}`);
  return n;
};

/** The largest off-diagonal cell: the (true, predicted) pair mistaken most often; the first in row order on a tie. */
export const mostConfused = (counts: readonly (readonly number[])[]): { trueClass: number; predicted: number; count: number } => {
  const n = checkSquare("mostConfused", counts);
  let best = { trueClass: 0, predicted: n > 1 ? 1 : 0, count: -1 };
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) if (t !== p && counts[t]![p]! > best.count) best = { trueClass: t, predicted: p, count: counts[t]![p]! };
  }
  return { ...best, count: Math.max(0, best.count) };
};

/** The class whose examples are recognised least often (recall = diagonal / row sum); the first on a tie. */
export const lowestRecall = (counts: readonly (readonly number[])[]): { classIndex: number; recall: number; correct: number; support: number } => {
  checkSquare("lowestRecall", counts);
  const { recall, support } = precisionRecall(counts);
  let c = 0;
  recall.forEach((r, k) => {
    if (r < recall[c]!) c = k;
  });
  return { classIndex: c, recall: recall[c]!, correct: counts[c]![c]!, support: support[c]! };
};

/** The fraction of values with |v| < threshold (NaN for no values). */
export const fractionNearZero = (values: ArrayLike<number>, threshold: number): number => {
  let near = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]!) < threshold) near++;
  return near / values.length;
};

/** Mean and (population) standard deviation, in float64. */
export const meanAndStd = (values: ArrayLike<number>): { mean: number; std: number } => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  const mean = s / values.length;
  let q = 0;
  for (let i = 0; i < values.length; i++) q += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(q / values.length) };
};

const checkMatrix = (who: string, weight: Tensor): [number, number] => {
  if (weight.rank !== 2) throw new ShapeError(`${who}: expected a weight matrix [inputs, units], got shape ${shapeStr(weight.shape)}`);
  return [weight.shape[0]!, weight.shape[1]!];
};

/**
 * Unit j's incoming weights: column j of a dense layer's weight [inputs, units] (y = x . W + b),
 * one array per unit. For the first layer of an MNIST network each is a 28x28 picture.
 */
export const unitWeights = (weight: Tensor): Float64Array[] => {
  const [inputs, units] = checkMatrix("unitWeights", weight);
  const w = weight.data;
  return Array.from({ length: units }, (_, j) => {
    const col = new Float64Array(inputs);
    for (let i = 0; i < inputs; i++) col[i] = w[i * units + j]!;
    return col;
  });
};

/** The Euclidean norm of each unit's incoming weights (each column of [inputs, units]). */
export const unitNorms = (weight: Tensor): Float64Array => {
  const [inputs, units] = checkMatrix("unitNorms", weight);
  const sq = new Float64Array(units);
  const w = weight.data;
  for (let i = 0; i < inputs; i++) for (let j = 0; j < units; j++) sq[j] = sq[j]! + w[i * units + j]! ** 2;
  return sq.map(Math.sqrt);
};

/** The indices of the k largest values, largest first (the lower index first on a tie). */
export const topIndices = (values: ArrayLike<number>, k: number): number[] =>
  Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b]! - values[a]! || a - b)
    .slice(0, Math.max(0, k));

/**
 * The misclassified examples, most confident first: indices i with argmax(probabilities[i]) !=
 * labels[i], ordered by the probability given to the wrong prediction (then by index).
 * `probabilities` is [batch, classes].
 */
export const confidentMistakes = (probabilities: Tensor, labels: ArrayLike<number>): { index: number; predicted: number; confidence: number }[] => {
  const [batch, classes] = checkMatrix("confidentMistakes", probabilities);
  if (labels.length !== batch) throw new ShapeError(`confidentMistakes: ${labels.length} labels for ${batch} rows of probabilities`);
  const out: { index: number; predicted: number; confidence: number }[] = [];
  const probs = probabilities.data;
  for (let i = 0; i < batch; i++) {
    let p = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + p]!) p = c;
    if (p !== labels[i]) out.push({ index: i, predicted: p, confidence: probs[i * classes + p]! });
  }
  return out.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
};

/**
 * The q-quantile of |v| (the smallest |v| with at least a fraction q of the values at or below it):
 * a colour scale's limit that a few outliers cannot stretch. 0 for no values.
 */
export const absQuantile = (values: ArrayLike<number>, q: number): number => {
  if (!(q > 0 && q <= 1)) throw new RangeError(`absQuantile: the quantile must be in (0, 1], got ${q}`);
  const sorted = Float64Array.from(values, Math.abs).sort();
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
};
