// Classification metrics on integer labels. Predictions are class indices, or logits / probabilities
// of shape [batch, classes] (the arg-max of each row is the prediction).

import { argmax, ShapeError, Tensor } from "../autograd/index.ts";
import { checkLabels } from "./losses.ts";

/** Class indices: the arg-max of each row for a [batch, classes] tensor, else the values themselves. */
export const predictions = (logitsOrPredictions: Tensor | ArrayLike<number>): ArrayLike<number> => {
  if (!(logitsOrPredictions instanceof Tensor)) return logitsOrPredictions;
  if (logitsOrPredictions.rank === 2) return argmax(logitsOrPredictions, -1).data;
  if (logitsOrPredictions.rank === 1) return logitsOrPredictions.data;
  throw new ShapeError(`predictions: expected logits [batch, classes] or class indices [batch], got rank ${logitsOrPredictions.rank}`);
};

/** Labels as numbers: a tensor's values, or the array itself. */
const valuesOf = (labels: Tensor | ArrayLike<number>): ArrayLike<number> => (labels instanceof Tensor ? labels.data : labels);

const paired = (who: string, logitsOrPredictions: Tensor | ArrayLike<number>, labels: ArrayLike<number>): ArrayLike<number> => {
  const predicted = predictions(logitsOrPredictions);
  if (predicted.length !== labels.length) throw new ShapeError(`${who}: ${predicted.length} predictions for ${labels.length} labels`);
  return predicted;
};

/** The fraction of examples whose prediction equals the label (NaN for an empty batch). */
export const accuracy = (logitsOrPredictions: Tensor | ArrayLike<number>, labelsOrTensor: Tensor | ArrayLike<number>): number => {
  const labels = valuesOf(labelsOrTensor);
  const predicted = paired("accuracy", logitsOrPredictions, labels);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / labels.length;
};

/**
 * counts[t][p] = how many examples of true class t were predicted as p (rows = truth, columns =
 * prediction): the diagonal holds the correct answers, each row sums to that class's support.
 */
export const confusionMatrix = (logitsOrPredictions: Tensor | ArrayLike<number>, labelsOrTensor: Tensor | ArrayLike<number>, classes: number): number[][] => {
  const labels = valuesOf(labelsOrTensor);
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`confusionMatrix: classes must be a positive integer, got ${classes}`);
  const predicted = checkLabels("confusionMatrix (predictions)", paired("confusionMatrix", logitsOrPredictions, labels), classes);
  const truth = checkLabels("confusionMatrix", labels, classes);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  truth.forEach((t, i) => counts[t]![predicted[i]!]!++);
  return counts;
};

export interface ClassReport {
  /** precision[c] = correct c / predicted c: of the examples called c, the fraction that are c. */
  readonly precision: number[];
  /** recall[c] = correct c / true c: of the examples that are c, the fraction called c. */
  readonly recall: number[];
  /** How many examples of each class there are (the row sums). */
  readonly support: number[];
}

/**
 * Per-class precision and recall from a confusion matrix (rows = truth, columns = prediction).
 * NOTE: a class never predicted (or never present) has precision (or recall) 0, not 0/0.
 */
export const precisionRecall = (counts: readonly (readonly number[])[]): ClassReport => {
  const n = counts.length;
  const diag = counts.map((row, c) => row[c] ?? 0);
  const support = counts.map((row) => row.reduce((s, x) => s + x, 0));
  const predicted = Array.from({ length: n }, (_, c) => counts.reduce((s, row) => s + (row[c] ?? 0), 0));
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    precision: diag.map((d, c) => ratio(d, predicted[c]!)),
    recall: diag.map((d, c) => ratio(d, support[c]!)),
    support,
  };
};
